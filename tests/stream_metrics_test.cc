// Metric definitions against hand-computed values on small fixed inputs.
#include "model/stream_metrics.h"

#include <gtest/gtest.h>

#include <cmath>

#include "model/auc.h"

namespace streamrec::model {
namespace {

TEST(AucTest, TiesCountOneHalf) {
  // Positives at 0.8 and 0.5; negatives at 0.5 and 0.2.
  // Pairs: (0.8 > 0.5) 1, (0.8 > 0.2) 1, (0.5 = 0.5) 0.5, (0.5 > 0.2) 1 -> 3.5 / 4.
  std::vector<ScoredLabel> pts = {{0.8, 1}, {0.5, 1}, {0.5, 0}, {0.2, 0}};
  EXPECT_DOUBLE_EQ(ExactAuc(pts), 0.875);
  std::vector<ScoredLabel> all_tied = {{0.3, 1}, {0.3, 0}, {0.3, 0}};
  EXPECT_DOUBLE_EQ(ExactAuc(all_tied), 0.5);
  std::vector<ScoredLabel> inverted = {{0.1, 1}, {0.9, 0}};
  EXPECT_DOUBLE_EQ(ExactAuc(inverted), 0.0);
  std::vector<ScoredLabel> one_class = {{0.1, 1}, {0.9, 1}};
  EXPECT_DOUBLE_EQ(ExactAuc(one_class), 0.5);
  // Weighted: the inverted pair weighs 3 of 4 negatives -> 1/4 of the pairs are right.
  std::vector<ScoredLabel> weighted = {{0.5, 1}, {0.9, 0, 3}, {0.1, 0, 1}};
  EXPECT_DOUBLE_EQ(ExactAuc(weighted), 0.25);
  std::vector<ScoredLabel> weightless = {{0.5, 1, 0}, {0.9, 0}};
  EXPECT_DOUBLE_EQ(ExactAuc(weightless), 0.5);
}

// Hostile pass: a NaN score made the tie loop of ExactAuc spin forever (GetStats hung the
// server). Non-finite scores are dropped from the AUC and never enter the metrics.
TEST(AucTest, NonFiniteScoresAreDroppedNotLooped) {
  std::vector<ScoredLabel> points = {{0.2, 0}, {std::nan(""), 1}, {0.8, 1}, {INFINITY, 0}};
  EXPECT_EQ(ExactAuc(points), 1.0);
  StreamMetrics m(10);
  m.Add(std::nan(""), 1, 1);
  m.Add(0.9, 1, 1);
  EXPECT_EQ(m.Overall().events, 1u);
}

TEST(StreamMetricsTest, HandComputedOverall) {
  StreamMetrics m(100);
  m.Add(0.8, 1.0, 1.0);  // loss -ln 0.8, correct
  m.Add(0.4, 1.0, 2.0);  // loss -ln 0.4, wrong, weight 2
  m.Add(0.1, 0.0, 1.0);  // loss -ln 0.9, correct
  const MetricValues v = m.Overall();
  EXPECT_EQ(v.events, 3u);
  EXPECT_DOUBLE_EQ(v.weight_sum, 4.0);
  const double logloss = (-std::log(0.8) - 2 * std::log(0.4) - std::log(0.9)) / 4;
  EXPECT_NEAR(v.logloss, logloss, 1e-12);
  EXPECT_NEAR(v.accuracy, 0.5, 1e-12);
  const double mean_p = (0.8 + 0.8 + 0.1) / 4, mean_y = 0.75;
  EXPECT_NEAR(v.mean_prediction, mean_p, 1e-12);
  EXPECT_NEAR(v.mean_label, mean_y, 1e-12);
  // NE: logloss / H(0.75), H(0.75) = -(0.75 ln 0.75 + 0.25 ln 0.25) = 0.562335
  EXPECT_NEAR(v.normalized_entropy, logloss / 0.5623351446188083, 1e-9);
  EXPECT_NEAR(v.calibration, mean_p / mean_y, 1e-12);  // 0.425 / 0.75 = 0.5667
  EXPECT_DOUBLE_EQ(v.auc, 1.0);  // both positives above the negative
}

TEST(StreamMetricsTest, WindowKeepsOnlyTheMostRecentEvents) {
  StreamMetrics m(2);
  m.Add(0.9, 0.0, 1.0);  // evicted
  m.Add(0.7, 1.0, 1.0);
  m.Add(0.2, 0.0, 1.0);
  const MetricValues w = m.Window();
  EXPECT_EQ(w.events, 2u);
  EXPECT_NEAR(w.logloss, (-std::log(0.7) - std::log(0.8)) / 2, 1e-6);
  EXPECT_DOUBLE_EQ(w.auc, 1.0);
  EXPECT_EQ(m.Overall().events, 3u);
  EXPECT_NEAR(m.Overall().auc, 0.5, 1e-12);  // the evicted negative outranks the positive
}

TEST(StreamMetricsTest, HistogramAucApproximatesExact) {
  StreamMetrics m(1000);
  for (int i = 0; i < 1000; ++i) {
    const double p = (i % 100) / 100.0 + 0.005;
    m.Add(p, (i * 7919) % 100 < (i % 100) ? 1.0 : 0.0, 1.0);
  }
  EXPECT_NEAR(m.Overall().auc, m.Window().auc, 1e-3);
  // Both weighted alike: one heavy, well-ranked event moves them together (the window's
  // ignored weights and read 0.72 where the histogram read 1.0).
  StreamMetrics w(1000);
  for (int i = 0; i < 999; ++i) w.Add((i % 100) / 100.0 + 0.005, (i * 7919) % 2, 1.0);
  w.Add(0.999, 1.0, 1e6);
  EXPECT_GT(w.Window().auc, 0.99);
  EXPECT_NEAR(w.Overall().auc, w.Window().auc, 1e-3);
}

TEST(StreamMetricsTest, UndefinedValuesAreZero) {
  StreamMetrics m;
  m.Add(0.3, 0.0, 1.0);
  const MetricValues v = m.Overall();
  EXPECT_EQ(v.normalized_entropy, 0.0);  // entropy of an all-negative stream is 0
  EXPECT_EQ(v.calibration, 0.0);
}

}  // namespace
}  // namespace streamrec::model
