// ProgressiveMetrics: running, importance-weighted logloss, accuracy and means of
// predictions made before learning from each event (progressive validation).
// Thread-compatible: the updater adds, others read a copied Summary.
#ifndef STREAMREC_MODEL_PROGRESSIVE_METRICS_H_
#define STREAMREC_MODEL_PROGRESSIVE_METRICS_H_

#include <cstdint>

namespace streamrec::model {

struct MetricsSummary {
  uint64_t events = 0;
  double weight_sum = 0;
  double logloss = 0;  // weighted mean; 0 when weight_sum == 0
  double accuracy = 0;
  double mean_prediction = 0;
  double mean_label = 0;
};

class ProgressiveMetrics {
 public:
  // Add records prediction p for label y with importance weight w >= 0.
  void Add(double p, double y, double w);
  MetricsSummary Summary() const;

 private:
  uint64_t events_ = 0;
  double weight_sum_ = 0;
  double loss_sum_ = 0;
  double correct_sum_ = 0;
  double prediction_sum_ = 0;
  double label_sum_ = 0;
};

}  // namespace streamrec::model

#endif  // STREAMREC_MODEL_PROGRESSIVE_METRICS_H_
