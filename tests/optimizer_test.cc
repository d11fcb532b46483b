// Each optimizer against steps computed by hand (arithmetic in the comments).
#include "model/optimizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "model/rows.h"

namespace streamrec::model {
namespace {

OptimizerConfig Config(OptimizerKind kind) {
  OptimizerConfig c = DefaultOptimizerConfig(kind);
  c.l1 = 0;
  c.l2 = 0;
  return c;
}

float Step(Optimizer& opt, ParamTable& w, size_t i, float g, bool regularize = true) {
  opt.BeginStep();
  CoordUpdate u = opt.Compute(i, w.Get(i), g, regularize);
  opt.Apply(u, w);
  return w.Get(i);
}

TEST(OptimizerTest, SgdWithL2) {
  OptimizerConfig c = Config(OptimizerKind::kSgd);
  c.learning_rate = 0.1;
  c.l2 = 0.5;
  Optimizer opt(c, 4);
  ParamTable w(4);
  w.Set(1, 1.0f);
  // 1 - 0.1 * (0.2 + 0.5 * 1) = 0.93
  EXPECT_NEAR(Step(opt, w, 1, 0.2f), 0.93, 1e-6);
  // Not regularized (bias): 0.93 - 0.1 * 0.2 = 0.91
  EXPECT_NEAR(Step(opt, w, 1, 0.2f, /*regularize=*/false), 0.91, 1e-6);
}

TEST(OptimizerTest, Adagrad) {
  OptimizerConfig c = Config(OptimizerKind::kAdagrad);
  c.learning_rate = 0.1;
  c.initial_accumulator = 0.1;
  c.epsilon = 1e-6;
  Optimizer opt(c, 4);
  ParamTable w(4);
  w.Set(2, 1.0f);
  // n = 0.1 + 0.2^2 = 0.14; w = 1 - 0.1 * 0.2 / (sqrt(0.14) + 1e-6) = 0.946547894
  EXPECT_NEAR(Step(opt, w, 2, 0.2f), 0.9465478945, 1e-6);
  EXPECT_NEAR(opt.State(2, 0), 0.14, 1e-7);
  EXPECT_NEAR(opt.State(3, 0), 0.1, 1e-7);  // untouched coordinates keep the initial value
}

TEST(OptimizerTest, AdamWithBiasCorrection) {
  OptimizerConfig c = Config(OptimizerKind::kAdam);
  c.learning_rate = 0.01;
  Optimizer opt(c, 4);
  ParamTable w(4);
  // t=1: m = 0.05, v = 0.00025, mhat = 0.5, vhat = 0.25, w = -0.01 * 0.5 / 0.5 = -0.01
  EXPECT_NEAR(Step(opt, w, 0, 0.5f), -0.0099999998, 1e-8);
  EXPECT_NEAR(opt.State(0, 0), 0.05, 1e-7);
  EXPECT_NEAR(opt.State(0, 1), 0.00025, 1e-9);
  // t=2: m = 0.095, v = 0.00049975, mhat = 0.095 / 0.19 = 0.5, vhat = 0.25 -> -0.02
  EXPECT_NEAR(Step(opt, w, 0, 0.5f), -0.0199999996, 1e-7);
}

TEST(OptimizerTest, FtrlProximalWithL1L2) {
  OptimizerConfig c = Config(OptimizerKind::kFtrl);
  c.learning_rate = 0.1;  // alpha
  c.ftrl_beta = 1.0;
  c.l1 = 0.5;
  c.l2 = 1.0;
  Optimizer opt(c, 4);
  ParamTable w(4);
  // g=2: n = 4, sigma = 2 / 0.1 = 20, z = 2; w = -(2 - 0.5) / ((1 + 2) / 0.1 + 1) = -1.5 / 31
  EXPECT_NEAR(Step(opt, w, 3, 2.0f), -0.0483870968, 1e-7);
  EXPECT_NEAR(opt.State(3, 0), 2.0, 1e-6);
  EXPECT_NEAR(opt.State(3, 1), 4.0, 1e-6);
  // g=-1: n = 5, sigma = (sqrt5 - 2) / 0.1, z = 2 - 1 - sigma * w = 1.11422644
  // w = -(z - 0.5) / ((1 + sqrt5) / 0.1 + 1) = -0.0184116884
  EXPECT_NEAR(Step(opt, w, 3, -1.0f), -0.0184116884, 1e-7);
  EXPECT_NEAR(opt.State(3, 0), 1.1142264407, 1e-6);
}

TEST(OptimizerTest, FtrlL1KeepsSmallWeightsAtZero) {
  OptimizerConfig c = Config(OptimizerKind::kFtrl);
  c.learning_rate = 0.1;
  c.l1 = 1.0;
  Optimizer opt(c, 2);
  ParamTable w(2);
  EXPECT_EQ(Step(opt, w, 0, 0.5f), 0.0f);  // |z| = 0.5 <= l1
  EXPECT_EQ(w.nonzero(), 0u);
}

TEST(OptimizerTest, NonFiniteProposalIsDetected) {
  Optimizer opt(Config(OptimizerKind::kSgd), 2);
  CoordUpdate u = opt.Compute(0, 0.0f, std::numeric_limits<float>::infinity(), true);
  EXPECT_FALSE(u.Finite());
  CoordUpdate big = opt.Compute(0, 3e38f, -3e38f * 100, true);
  EXPECT_FALSE(big.Finite());
}

// Normalized: one coordinate seen at scale 1 and at scale 1000 (g = dloss * x) takes
// the same steps in w * x, so the score never depends on the feature's unit.
TEST(OptimizerTest, NormalizedStepIsInvariantToFeatureScale) {
  for (OptimizerKind kind : {OptimizerKind::kFtrl, OptimizerKind::kAdagrad,
                             OptimizerKind::kSgd}) {
    SCOPED_TRACE(OptimizerName(kind));
    OptimizerConfig c = Config(kind);
    c.normalized = true;
    Optimizer a(c, 1), b(c, 1);
    ParamTable wa(1), wb(1);
    const double dloss[] = {0.5, -0.3, 0.2, 0.7, -0.6};
    for (double d : dloss) {
      const RowValue xa[] = {{0, 1.0f}}, xb[] = {{0, 1000.0f}};
      a.BeginExample(xa);
      b.BeginExample(xb);
      a.Apply(a.Compute(0, wa.Get(0), static_cast<float>(d * 1.0), true), wa);
      b.Apply(b.Compute(0, wb.Get(0), static_cast<float>(d * 1000.0), true), wb);
      EXPECT_NEAR(wa.Get(0) * 1.0, wb.Get(0) * 1000.0, 1e-5 * (1 + std::abs(wa.Get(0))));
    }
    EXPECT_NE(wa.Get(0), 0.0f);
    EXPECT_EQ(b.scale_table().Get(0), 1000.0f);
  }
}

// Normalized: an event's step shrinks with the root of its feature count, so 40
// features move the score sqrt(40) times as far as one (not 40 times, as unnormalized).
TEST(OptimizerTest, NormalizedStepGrowsWithTheRootOfTheFeatureCount) {
  auto logit_step = [](bool normalized, size_t n) {
    OptimizerConfig c = Config(OptimizerKind::kFtrl);
    c.normalized = normalized;
    Optimizer opt(c, n);
    ParamTable w(n);
    std::vector<RowValue> coords;
    for (size_t i = 0; i < n; ++i) coords.push_back({i, 1.0f});
    opt.BeginExample(coords);
    double sum = 0;
    for (size_t i = 0; i < n; ++i) {
      opt.Apply(opt.Compute(i, 0.0f, 0.5f, true), w);
      sum += w.Get(i);
    }
    return std::abs(sum);
  };
  EXPECT_NEAR(logit_step(true, 40) / logit_step(true, 1), std::sqrt(40.0), 1e-3);
  EXPECT_NEAR(logit_step(false, 40) / logit_step(false, 1), 40.0, 1e-3);
}

// The dense layers' whole-table update (DnnModel) is Compute coordinate by coordinate, bit
// for bit, for every kind, with and without regularization and gradient scaling; a
// non-finite gradient or proposal refuses the whole table.
TEST(OptimizerTest, ComputeDenseIsComputePerCoordinateBitForBit) {
  for (OptimizerKind kind : {OptimizerKind::kSgd, OptimizerKind::kAdagrad, OptimizerKind::kAdam}) {
    OptimizerConfig c = Config(kind);
    c.l2 = 0.01;
    const size_t n = 1500;  // more than one block, not a multiple of one
    Optimizer dense(c, n), coords(c, n);
    ParamTable dw(n), cw(n);
    std::vector<float> w(n), g(n), wo(n), s0(n), s1(n);
    for (int step = 0; step < 3; ++step) {
      dense.BeginStep();
      coords.BeginStep();
      for (size_t i = 0; i < n; ++i) {
        g[i] = std::sin(0.37f * i + step) * (i % 7 == 0 ? 1e-3f : 1.0f);
        w[i] = dw.Get(i);
      }
      const double scale = step == 1 ? 0.3 : 1.0;
      const bool regularize = step != 2;
      ASSERT_TRUE(dense.ComputeDense(w.data(), g.data(), scale, regularize, n, wo.data(),
                                     s0.data(), s1.data()));
      dw.SetRange(0, wo.data(), n);
      dense.ApplyDenseSlots(s0.data(), s1.data(), n);
      for (size_t i = 0; i < n; ++i) {
        const float gf = static_cast<float>(double{g[i]} * scale);
        coords.Apply(coords.Compute(i, cw.Get(i), gf, regularize), cw);
      }
      ASSERT_EQ(dw.values(), cw.values()) << static_cast<int>(kind) << " step " << step;
      for (int s = 0; s < dense.slots(); ++s) {
        ASSERT_EQ(dense.slot_table(s).values(), coords.slot_table(s).values());
      }
      EXPECT_EQ(dw.nonzero(), cw.nonzero());
      EXPECT_EQ(dw.dirty_chunks(), cw.dirty_chunks());
    }
    g[n - 3] = std::numeric_limits<float>::infinity();
    EXPECT_FALSE(dense.ComputeDense(w.data(), g.data(), 1.0, true, n, wo.data(), s0.data(),
                                    s1.data()));
  }
}

}  // namespace
}  // namespace streamrec::model
