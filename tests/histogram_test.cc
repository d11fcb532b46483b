// Histogram: observations land in the first bucket whose bound is >= them (Prometheus'
// "le"), above the last bound in +Inf; n-fold observations; NaN ignored; concurrent
// observers lose nothing (also run under ThreadSanitizer).
#include "server/core/histogram.h"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>
#include <vector>

namespace streamrec::core {
namespace {

TEST(HistogramTest, BucketsAreLessOrEqual) {
  Histogram h({1.0, 2.0, 5.0});
  for (double v : {0.5, 1.0, 1.5, 2.0, 4.0, 5.0, 7.0}) h.Observe(v);
  h.Observe(std::nan(""));
  h.Observe(3.0, 10);
  const Histogram::Snapshot s = h.Read();
  EXPECT_EQ(s.bounds, (std::vector<double>{1.0, 2.0, 5.0}));
  EXPECT_EQ(s.counts, (std::vector<uint64_t>{2, 2, 12, 1}));
  EXPECT_EQ(s.count, 17u);
  EXPECT_DOUBLE_EQ(s.sum, 0.5 + 1 + 1.5 + 2 + 4 + 5 + 7 + 30);
}

TEST(HistogramTest, LatencyBucketsSpan50MicrosecondsTo10Seconds) {
  const std::vector<double>& b = LatencyBuckets();
  ASSERT_GE(b.size(), 10u);
  EXPECT_DOUBLE_EQ(b.front(), 50e-6);
  EXPECT_DOUBLE_EQ(b.back(), 10.0);
  for (size_t i = 1; i < b.size(); ++i) EXPECT_LT(b[i - 1], b[i]);
}

TEST(HistogramTest, ConcurrentObserversLoseNothing) {
  Histogram h(LatencyBuckets());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < 10000; ++i) h.Observe(1e-3 * (t + 1));
    });
  }
  std::thread reader([&h] {
    for (int i = 0; i < 100; ++i) {
      const Histogram::Snapshot s = h.Read();
      uint64_t total = 0;
      for (uint64_t c : s.counts) total += c;
      EXPECT_EQ(total, s.count);
    }
  });
  for (auto& t : threads) t.join();
  reader.join();
  const Histogram::Snapshot s = h.Read();
  EXPECT_EQ(s.count, 40000u);
  EXPECT_NEAR(s.sum, 10000 * 1e-3 * (1 + 2 + 3 + 4), 1e-6);
}

}  // namespace
}  // namespace streamrec::core
