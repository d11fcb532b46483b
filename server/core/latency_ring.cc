#include "server/core/latency_ring.h"

#include <algorithm>

namespace streamrec::core {

void LatencyRing::Add(double ms, size_t weight) {
  if (samples_.size() < capacity_) {
    samples_.emplace_back(ms, weight);
  } else {
    samples_[next_] = {ms, weight};
    next_ = (next_ + 1) % capacity_;
  }
}

double LatencyRing::Percentile(double q) const {
  if (samples_.empty()) return 0;
  std::vector<std::pair<double, size_t>> sorted = samples_;
  std::sort(sorted.begin(), sorted.end());
  size_t total = 0;
  for (const auto& s : sorted) total += s.second;
  size_t seen = 0;
  for (const auto& s : sorted) {
    seen += s.second;
    if (seen >= q * total) return s.first;
  }
  return sorted.back().first;
}

}  // namespace streamrec::core
