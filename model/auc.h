// ExactAuc: area under the ROC curve of scores against binary labels (label >= 0.5 is
// positive), by rank: tied scores count one half. 0.5 when either class is absent.
// Pure function; sorts its argument.
#ifndef STREAMREC_MODEL_AUC_H_
#define STREAMREC_MODEL_AUC_H_

#include <utility>
#include <vector>

namespace streamrec::model {

// ScoredLabel is (score, label).
using ScoredLabel = std::pair<double, double>;

double ExactAuc(std::vector<ScoredLabel>& points);

}  // namespace streamrec::model

#endif  // STREAMREC_MODEL_AUC_H_
