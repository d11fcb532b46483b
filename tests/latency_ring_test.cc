// LatencyRing as a table of cases: weighted percentiles, and the ring keeping only the
// newest samples.
#include "server/core/latency_ring.h"

#include <gtest/gtest.h>

namespace streamrec::core {
namespace {

TEST(LatencyRingTest, WeightedPercentiles) {
  struct Case {
    std::vector<std::pair<double, size_t>> samples;
    double q;
    double want;
  } cases[] = {
      {{}, 0.5, 0.0},                        // empty
      {{{5, 1}}, 0.5, 5},                    // one sample
      {{{1, 1}, {2, 1}, {3, 1}, {4, 1}}, 0.5, 2},
      {{{1, 1}, {2, 1}, {3, 1}, {4, 1}}, 0.99, 4},
      {{{10, 99}, {1000, 1}}, 0.99, 10},     // the batch of 99 events dominates
      {{{10, 98}, {1000, 2}}, 0.99, 1000},
      {{{3, 1}, {1, 1}, {2, 1}}, 1.0, 3},    // order of insertion does not matter
  };
  for (const Case& c : cases) {
    LatencyRing ring;
    for (const auto& [ms, w] : c.samples) ring.Add(ms, w);
    EXPECT_EQ(ring.Percentile(c.q), c.want) << "q " << c.q;
  }
}

TEST(LatencyRingTest, KeepsTheNewestSamples) {
  LatencyRing ring(3);
  for (double ms : {100.0, 200.0, 1.0, 2.0, 3.0}) ring.Add(ms, 1);
  EXPECT_EQ(ring.size(), 3u);
  EXPECT_EQ(ring.Percentile(1.0), 3.0);  // 100 and 200 were overwritten
}

}  // namespace
}  // namespace streamrec::core
