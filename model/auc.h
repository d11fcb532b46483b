// ExactAuc: area under the ROC curve of scores against binary labels (label >= 0.5 is
// positive), by rank: tied scores count one half; each point counts with its importance
// weight (the same weighting as the all-time histogram AUC and every other metric), so a
// weight-2 event counts as two. 0.5 when either class is absent (or weighs 0).
// Pure function; sorts its argument.
#ifndef STREAMREC_MODEL_AUC_H_
#define STREAMREC_MODEL_AUC_H_

#include <vector>

namespace streamrec::model {

struct ScoredLabel {
  double score;
  double label;
  double weight = 1.0;
};

double ExactAuc(std::vector<ScoredLabel>& points);

}  // namespace streamrec::model

#endif  // STREAMREC_MODEL_AUC_H_
