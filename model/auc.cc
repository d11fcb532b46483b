#include "model/auc.h"

#include <algorithm>
#include <cmath>

namespace streamrec::model {

double ExactAuc(std::vector<ScoredLabel>& points) {
  // A non-finite score has no rank (and a NaN would make the tie loop below spin): drop it.
  points.erase(std::remove_if(points.begin(), points.end(),
                              [](const ScoredLabel& p) { return !std::isfinite(p.score); }),
               points.end());
  std::sort(points.begin(), points.end(),
            [](const ScoredLabel& a, const ScoredLabel& b) { return a.score < b.score; });
  // Sum over positives of (negatives ranked below + half the negatives tied with it).
  double negatives_below = 0, pairs = 0, positives = 0;
  size_t i = 0;
  while (i < points.size()) {
    size_t j = i;
    double pos = 0, neg = 0;
    for (; j < points.size() && points[j].score == points[i].score; ++j) {
      (points[j].label >= 0.5 ? pos : neg) += points[j].weight;
    }
    pairs += pos * (negatives_below + 0.5 * neg);
    negatives_below += neg;
    positives += pos;
    i = j;
  }
  const double negatives = negatives_below;
  if (!(positives > 0) || !(negatives > 0)) return 0.5;
  return pairs / (positives * negatives);
}

}  // namespace streamrec::model
