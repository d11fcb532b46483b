#include "model/stream_metrics.h"

#include <algorithm>
#include <cmath>

#include "model/auc.h"
#include "model/loss.h"

namespace streamrec::model {

void MetricSums::Add(double p, double y, double w) {
  ++events;
  weight += w;
  loss += w * LogLoss(p, y);
  correct += w * (((p >= 0.5) == (y >= 0.5)) ? 1.0 : 0.0);
  prediction += w * p;
  label += w * y;
}

void MetricSums::Fill(MetricValues& out) const {
  out.events = events;
  out.weight_sum = weight;
  if (weight <= 0) return;
  out.logloss = loss / weight;
  out.accuracy = correct / weight;
  out.mean_prediction = prediction / weight;
  out.mean_label = label / weight;
  const double q = out.mean_label;
  const double h = (q <= 0 || q >= 1) ? 0.0 : -(q * std::log(q) + (1 - q) * std::log(1 - q));
  out.normalized_entropy = h > 0 ? out.logloss / h : 0.0;
  out.calibration = q > 0 ? out.mean_prediction / q : 0.0;
}

StreamMetrics::StreamMetrics(size_t window)
    : window_(std::max<size_t>(window, 1)),
      positive_bins_(kHistogramBins, 0.0),
      negative_bins_(kHistogramBins, 0.0) {
  ring_.reserve(window_);
}

void StreamMetrics::Add(double p, double y, double w) {
  if (!std::isfinite(p)) return;  // never from a model (they report 0.5); never counted
  overall_.Add(p, y, w);
  const int bin = std::clamp(static_cast<int>(p * kHistogramBins), 0, kHistogramBins - 1);
  (y >= 0.5 ? positive_bins_ : negative_bins_)[bin] += w;
  const Point point{static_cast<float>(p), static_cast<float>(y), static_cast<float>(w)};
  if (ring_.size() < window_) {
    ring_.push_back(point);
  } else {
    ring_[next_] = point;
    next_ = (next_ + 1) % window_;
  }
}

StreamMetrics::State StreamMetrics::ExportState() const {
  State s;
  s.overall = overall_;
  s.positive_bins = positive_bins_;
  s.negative_bins = negative_bins_;
  s.window.reserve(ring_.size());
  for (size_t i = 0; i < ring_.size(); ++i) s.window.push_back(ring_[(next_ + i) % ring_.size()]);
  return s;
}

void StreamMetrics::ImportState(const State& state) {
  overall_ = state.overall;
  if (state.positive_bins.size() == kHistogramBins &&
      state.negative_bins.size() == kHistogramBins) {
    positive_bins_ = state.positive_bins;
    negative_bins_ = state.negative_bins;
  }
  ring_.clear();
  next_ = 0;
  const size_t skip = state.window.size() > window_ ? state.window.size() - window_ : 0;
  ring_.assign(state.window.begin() + skip, state.window.end());
  if (ring_.size() == window_) next_ = 0;
}

MetricValues StreamMetrics::Overall() const {
  MetricValues v;
  overall_.Fill(v);
  double negatives_below = 0, pairs = 0, positives = 0;
  for (int b = 0; b < kHistogramBins; ++b) {
    pairs += positive_bins_[b] * (negatives_below + 0.5 * negative_bins_[b]);
    negatives_below += negative_bins_[b];
    positives += positive_bins_[b];
  }
  if (positives > 0 && negatives_below > 0) v.auc = pairs / (positives * negatives_below);
  return v;
}

MetricValues StreamMetrics::Window() const {
  MetricSums sums;
  std::vector<ScoredLabel> points;
  points.reserve(ring_.size());
  for (const Point& pt : ring_) {
    sums.Add(pt.p, pt.y, pt.w);
    points.push_back({pt.p, pt.y, pt.w});
  }
  MetricValues v;
  sums.Fill(v);
  v.auc = ExactAuc(points);
  return v;
}

}  // namespace streamrec::model
