// Histogram: a distribution over fixed buckets, recorded lock-free (one relaxed atomic
// add per observation and one for the sum), for the Prometheus endpoint
// (server/metrics/). The bucket bounds are fixed at construction: a bucket counts the
// observations <= its bound and > the previous one, the last bucket everything above
// the last bound (Prometheus' "+Inf").
//
//   Histogram h(LatencyBuckets());
//   h.Observe(0.0012);                       // any thread
//   Histogram::Snapshot s = h.Read();        // any thread
//
// Thread-safe: Observe and Read from any thread at once. A Read concurrent with
// Observes sees each observation's bucket and sum independently (no torn values, but the
// sum may lead or trail the counts by the observations in flight); Snapshot::count is
// the sum of the bucket counts it read, so it always matches them.
#ifndef STREAMREC_SERVER_CORE_HISTOGRAM_H_
#define STREAMREC_SERVER_CORE_HISTOGRAM_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace streamrec::core {

// LatencyBuckets: upper bounds in seconds from 50 us to 10 s (1, 2.5, 5 per decade),
// for request, batch, publication, persistence and freshness times.
const std::vector<double>& LatencyBuckets();

class Histogram {
 public:
  // `bounds`: strictly increasing finite upper bounds (a bucket above the last is added).
  explicit Histogram(const std::vector<double>& bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Observe records `value` `n` times (a batch's latency once per event). NaN is ignored.
  void Observe(double value, uint64_t n = 1);

  struct Snapshot {
    std::vector<double> bounds;   // upper bounds, without +Inf
    std::vector<uint64_t> counts;  // per bucket (not cumulative), bounds.size() + 1
    double sum = 0;
    uint64_t count = 0;  // the sum of `counts`
  };
  Snapshot Read() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  const std::vector<double> bounds_;
  const std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1
  std::atomic<double> sum_{0};
};

}  // namespace streamrec::core

#endif  // STREAMREC_SERVER_CORE_HISTOGRAM_H_
