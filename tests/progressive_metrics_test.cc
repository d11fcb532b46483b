#include "model/progressive_metrics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace streamrec::model {
namespace {

TEST(ProgressiveMetricsTest, HandComputed) {
  ProgressiveMetrics m;
  m.Add(0.8, 1.0, 1.0);  // loss -ln 0.8 = 0.22314, correct
  m.Add(0.4, 1.0, 2.0);  // loss -ln 0.4 = 0.91629, wrong, weight 2
  m.Add(0.1, 0.0, 1.0);  // loss -ln 0.9 = 0.10536, correct
  MetricsSummary s = m.Summary();
  EXPECT_EQ(s.events, 3u);
  EXPECT_DOUBLE_EQ(s.weight_sum, 4.0);
  EXPECT_NEAR(s.logloss, (-std::log(0.8) - 2 * std::log(0.4) - std::log(0.9)) / 4, 1e-12);
  EXPECT_NEAR(s.accuracy, 0.5, 1e-12);
  EXPECT_NEAR(s.mean_prediction, (0.8 + 0.8 + 0.1) / 4, 1e-12);
  EXPECT_NEAR(s.mean_label, 0.75, 1e-12);
}

TEST(ProgressiveMetricsTest, EmptyIsZero) {
  ProgressiveMetrics m;
  m.Add(0.3, 1.0, 0.0);
  EXPECT_EQ(m.Summary().events, 1u);
  EXPECT_EQ(m.Summary().logloss, 0.0);
}

}  // namespace
}  // namespace streamrec::model
