// LatencyRing: the latencies of the last `capacity` samples, each weighted by the
// events it stands for (a batch's ack-to-publish time counts once per event), and their
// weighted percentiles. Thread-compatible (the updater holds it under its stats mutex;
// Percentiles runs on a copy).
#ifndef STREAMREC_SERVER_CORE_LATENCY_RING_H_
#define STREAMREC_SERVER_CORE_LATENCY_RING_H_

#include <cstddef>
#include <utility>
#include <vector>

namespace streamrec::core {

class LatencyRing {
 public:
  explicit LatencyRing(size_t capacity = 4096) : capacity_(capacity < 1 ? 1 : capacity) {}

  // Add records a latency of `ms` standing for `weight` events; the oldest sample is
  // overwritten once `capacity` are held.
  void Add(double ms, size_t weight);
  size_t size() const { return samples_.size(); }
  // Percentile: the smallest latency such that at least q (0..1] of the weight is at or
  // below it; 0 when empty.
  double Percentile(double q) const;

 private:
  size_t capacity_;
  std::vector<std::pair<double, size_t>> samples_;
  size_t next_ = 0;
};

}  // namespace streamrec::core

#endif  // STREAMREC_SERVER_CORE_LATENCY_RING_H_
