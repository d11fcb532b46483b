// StreamMetrics: progressive-validation metrics of a prediction stream, overall (since
// start) and over a sliding window of the most recent `window` events.
//
// Definitions (w = importance weight, p = prediction made before learning, y = label):
//   logloss      sum w * -(y ln p + (1-y) ln(1-p)) / sum w
//   accuracy     sum w * [(p >= 0.5) == (y >= 0.5)] / sum w
//   NE           logloss / H(mean label), H(q) = -(q ln q + (1-q) ln(1-q)) (He et al. 2014);
//                0 when H = 0 (all labels equal)
//   calibration  mean prediction / mean label (0 when no positive labels)
//   AUC          weighted; window: exact, by rank with ties counted one half;
//                overall: approximate, from a 4096-bin histogram of p per class (ties
//                within a bin count one half)
// Thread-compatible: the updater adds; a reader takes a copy under its own lock.
#ifndef STREAMREC_MODEL_STREAM_METRICS_H_
#define STREAMREC_MODEL_STREAM_METRICS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace streamrec::model {

struct MetricValues {
  uint64_t events = 0;
  double weight_sum = 0;
  double logloss = 0;
  double accuracy = 0;
  double auc = 0.5;
  double normalized_entropy = 0;
  double calibration = 0;
  double mean_prediction = 0;
  double mean_label = 0;
};

// Accumulator: weighted sums from which every metric but AUC follows.
struct MetricSums {
  uint64_t events = 0;
  double weight = 0, loss = 0, correct = 0, prediction = 0, label = 0;
  void Add(double p, double y, double w);
  // Fill sets every field of `out` but auc.
  void Fill(MetricValues& out) const;
};

class StreamMetrics {
 public:
  static constexpr int kHistogramBins = 4096;
  struct Point {
    float p, y, w;
  };
  // State: everything needed to resume the metrics exactly (persisted in snapshots).
  // `window` is oldest first.
  struct State {
    MetricSums overall;
    std::vector<double> positive_bins, negative_bins;
    std::vector<Point> window;
  };
  explicit StreamMetrics(size_t window = 10000);

  void Add(double p, double y, double w);
  MetricValues Overall() const;
  MetricValues Window() const;  // O(window log window): computes the exact AUC
  size_t window_size() const { return window_; }

  State ExportState() const;
  // ImportState restores a state (keeping the newest window_size() points of its window).
  void ImportState(const State& state);

 private:
  size_t window_;
  MetricSums overall_;
  std::vector<double> positive_bins_, negative_bins_;
  std::vector<Point> ring_;
  size_t next_ = 0;
};

}  // namespace streamrec::model

#endif  // STREAMREC_MODEL_STREAM_METRICS_H_
