#include "model/progressive_metrics.h"

#include "model/loss.h"

namespace streamrec::model {

void ProgressiveMetrics::Add(double p, double y, double w) {
  ++events_;
  weight_sum_ += w;
  loss_sum_ += w * LogLoss(p, y);
  correct_sum_ += w * (((p >= 0.5) == (y >= 0.5)) ? 1.0 : 0.0);
  prediction_sum_ += w * p;
  label_sum_ += w * y;
}

MetricsSummary ProgressiveMetrics::Summary() const {
  MetricsSummary s;
  s.events = events_;
  s.weight_sum = weight_sum_;
  if (weight_sum_ > 0) {
    s.logloss = loss_sum_ / weight_sum_;
    s.accuracy = correct_sum_ / weight_sum_;
    s.mean_prediction = prediction_sum_ / weight_sum_;
    s.mean_label = label_sum_ / weight_sum_;
  }
  return s;
}

}  // namespace streamrec::model
