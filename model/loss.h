// Numerically safe sigmoid and binary cross-entropy. Pure functions.
#ifndef STREAMREC_MODEL_LOSS_H_
#define STREAMREC_MODEL_LOSS_H_

#include <algorithm>
#include <cmath>

namespace streamrec::model {

// kMaxLogit bounds logits so probabilities stay in (0, 1) in double precision.
inline constexpr double kMaxLogit = 35.0;

inline double Sigmoid(double logit) {
  logit = std::clamp(logit, -kMaxLogit, kMaxLogit);
  return 1.0 / (1.0 + std::exp(-logit));
}

// ServedScore: what serving answers for a logit: its sigmoid, or 0.5 (no information)
// for a NaN (inf - inf in a sum of huge inputs); never NaN.
inline double ServedScore(double logit) { return std::isnan(logit) ? 0.5 : Sigmoid(logit); }

// LogLoss is the binary cross-entropy of prediction p for a (possibly soft) label y,
// with p clamped to [1e-15, 1 - 1e-15].
inline double LogLoss(double p, double y) {
  p = std::clamp(p, 1e-15, 1.0 - 1e-15);
  return -(y * std::log(p) + (1.0 - y) * std::log(1.0 - p));
}

}  // namespace streamrec::model

#endif  // STREAMREC_MODEL_LOSS_H_
