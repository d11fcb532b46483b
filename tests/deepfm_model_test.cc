// DeepFM (ModelConfig kind kDeepFm: DnnModel with its linear part and the FM term over
// the field embeddings on; model/dnn_model.h, model/deepfm_terms.h; its batch update
// against finite differences of the mean log loss, with every optimizer, is in
// gradient_check_test.cc): the FM term is what its formula says; a user-group x
// item-group interaction that logistic regression cannot learn is learned; the same
// events give bit-identical tables, and a model restored at a batch boundary continues
// bit for bit; snapshots score what the trainer predicts; huge inputs never give a NaN;
// the tables are named; bad configs are refused naming the kind.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "model/deepfm_terms.h"
#include "model/dnn_model.h"
#include "model/hash.h"
#include "model/linear_model.h"
#include "model/loss.h"
#include "tests/testing/dnn_checks.h"
#include "tests/testing/model_events.h"

namespace streamrec::model {
namespace {

using model_testing::Cat;
using model_testing::Num;
using model_testing::Rng;
using model_testing::Tables;

// Two embedded fields, the other slot (genre, crosses) and a dense number.
ModelConfig Small(uint32_t batch = 4, double dropout = 0.0,
                  DnnKernels kernels = DnnKernels::kOrdered) {
  ModelConfig c = DefaultModelConfig(ModelKind::kDeepFm);
  c.dnn.kernels = kernels;
  c.hash_bits = 8;
  c.dnn.embedding_dim = 4;
  c.dnn.hidden = {6, 3};
  c.dnn.dropout = dropout;
  c.dnn.batch_size = batch;
  c.dnn.fields = {"user", "item_id"};
  c.dnn.dense_fields = {{"age", 1}};
  return c;
}

FeatureVector SmallEvent(Rng& rng) {
  return {Cat("user", "u" + std::to_string(rng.Next() % 5)),
          Cat("item_id", "m" + std::to_string(rng.Next() % 7)),
          Num("age", static_cast<float>(rng.Uniform() * 2)),
          Cat("genre", "g" + std::to_string(rng.Next() % 3)),
          Cat("genre", "g" + std::to_string(3 + rng.Next() % 3), 0.5f)};
}

std::vector<Example> Stream(int n, uint64_t seed) {
  return model_testing::Stream(n, seed, SmallEvent);
}

TEST(DeepFmModelTest, FmFieldTermIsTheSumOfPairwiseDotProducts) {
  const float x[] = {1, 2, -1, 0.5f, 3, -2};  // 3 slots x 2 dims
  // <e0,e1> + <e0,e2> + <e1,e2> = (-1 + 1) + (3 - 4) + (-3 - 1) = -5
  EXPECT_DOUBLE_EQ(FmFieldTerm(x, 3, 2), -5.0);
  float dx[6] = {};
  AddFmFieldGradient(x, 3, 2, 2.0f, dx);
  // d/de0 = e1 + e2 = (2, -1.5), times 2.
  EXPECT_FLOAT_EQ(dx[0], 4.0f);
  EXPECT_FLOAT_EQ(dx[1], -3.0f);
}

// Clicks depend only on user group x item group (same group: 85%, else 15%).
double LateLogLoss(Model& m) {
  Rng rng(99);
  double loss = 0;
  int counted = 0;
  const int kEvents = 40000;
  for (int i = 0; i < kEvents; ++i) {
    const int user = static_cast<int>(rng.Next() % 100), item = static_cast<int>(rng.Next() % 100);
    const float label = rng.Uniform() < ((user % 2) == (item % 2) ? 0.85 : 0.15) ? 1.0f : 0.0f;
    const TrainResult r = m.Train(
        {{Cat("user", "u" + std::to_string(user)), Cat("item_id", "m" + std::to_string(item))},
         label, 1.0f});
    if (i >= kEvents * 3 / 4) {
      loss += LogLoss(r.prediction, label);
      ++counted;
    }
  }
  return loss / counted;
}

TEST(DeepFmModelTest, LearnsAnInteractionLogisticRegressionCannot) {
  ModelConfig c = DefaultModelConfig(ModelKind::kDeepFm);
  c.hash_bits = 12;
  c.dnn.fields = {"user", "item_id"};
  c.dnn.hidden = {32, 16};
  c.dnn.dropout = 0.1;
  c.dnn.batch_size = 32;
  c.optimizer.learning_rate = 0.01;
  DnnModel deepfm(c);
  ModelConfig lc;
  lc.hash_bits = 12;
  lc.optimizer = DefaultOptimizerConfig(OptimizerKind::kFtrl);
  LinearModel linear(lc);
  const double deepfm_loss = LateLogLoss(deepfm), linear_loss = LateLogLoss(linear);
  std::printf("interaction: progressive logloss over the last quarter: deepfm %.4f, logistic "
              "%.4f, optimum %.4f\n",
              deepfm_loss, linear_loss, -(0.85 * std::log(0.85) + 0.15 * std::log(0.15)));
  EXPECT_GT(linear_loss, 0.66);
  EXPECT_LT(deepfm_loss, 0.50);
}

// The determinism tests run for both training arithmetics (dnn.kernels).
class DeepFmModelTestKernels : public testing::TestWithParam<DnnKernels> {};
INSTANTIATE_TEST_SUITE_P(Both, DeepFmModelTestKernels, model_testing::kBothKernels,
                         model_testing::KernelsName);

TEST_P(DeepFmModelTestKernels, SameEventsGiveBitIdenticalTables) {
  const ModelConfig c = Small(8, 0.5, GetParam());
  DnnModel a(c), b(c);
  for (const Example& e : Stream(203, 5)) {
    ASSERT_EQ(a.Train(e).prediction, b.Train(e).prediction);
  }
  EXPECT_EQ(a.optimizer_step(), 25u);
  EXPECT_EQ(Tables(a), Tables(b));
  EXPECT_NE(a.Linear(RowOf(Cat("user", "u1").hash, 8)), 0.0f);
}

// FlushPending applies the pending events as a batch of their own: the same update as
// a model whose batches are that size (the dropout positions of a first batch agree), one
// optimizer step; with nothing pending it changes nothing.
TEST_P(DeepFmModelTestKernels, FlushPendingAppliesAPartialBatch) {
  const std::vector<Example> events = Stream(5, 23);
  DnnModel a(Small(8, 0.5, GetParam())), b(Small(5, 0.5, GetParam()));
  for (const Example& e : events) {
    a.Train(e);
    b.Train(e);  // the fifth fills b's batch
  }
  EXPECT_EQ(a.pending_events(), 5u);
  EXPECT_EQ(b.pending_events(), 0u);
  EXPECT_FALSE(a.HasChanges());
  EXPECT_TRUE(a.FlushPending());
  EXPECT_EQ(a.pending_events(), 0u);
  EXPECT_TRUE(a.HasChanges());
  EXPECT_EQ(a.optimizer_step(), 1u);
  EXPECT_EQ(Tables(a), Tables(b));
  a.Publish(1, 5, nullptr);
  EXPECT_TRUE(a.FlushPending());  // nothing pending
  EXPECT_EQ(a.optimizer_step(), 1u);
  EXPECT_FALSE(a.HasChanges());
  // Training goes on in full batches from there; the same flush points give the same
  // tables bit for bit.
  DnnModel c(Small(8, 0.5, GetParam()));
  for (const Example& e : events) c.Train(e);
  c.FlushPending();
  for (const Example& e : Stream(37, 29)) {
    EXPECT_EQ(a.Train(e).prediction, c.Train(e).prediction);
  }
  EXPECT_EQ(a.pending_events(), 5u);  // 4 full batches and 5
  EXPECT_EQ(a.optimizer_step(), 5u);
  EXPECT_EQ(Tables(a), Tables(c));
}

TEST_P(DeepFmModelTestKernels, RestoredAtABatchBoundaryContinuesBitForBit) {
  const ModelConfig c = Small(8, 0.5, GetParam());
  const std::vector<Example> events = Stream(400, 11);
  DnnModel a(c);
  for (int i = 0; i < 160; ++i) a.Train(events[i]);
  DnnModel b(c);
  b.Publish(1, 0, nullptr);  // b published before: the restore must republish everything
  std::vector<StateTable> from = a.StateTables(), to = b.StateTables();
  ASSERT_EQ(from.size(), to.size());
  for (size_t t = 0; t < from.size(); ++t) {
    ASSERT_EQ(from[t].name, to[t].name);
    for (size_t k = 0; k < from[t].table->num_chunks(); ++k) {
      to[t].table->SetChunk(k, from[t].table->ChunkData(k), from[t].table->ChunkSize(k));
    }
  }
  b.DiscardPending();
  b.set_optimizer_step(a.optimizer_step());
  std::shared_ptr<const Snapshot> sa = a.Publish(2, 160, nullptr);
  std::shared_ptr<const Snapshot> sb = b.Publish(2, 160, nullptr);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(sa->ScoreOne({}, events[i].features), sb->ScoreOne({}, events[i].features));
  }
  for (int i = 160; i < 165; ++i) a.Train(events[i]);
  EXPECT_EQ(a.pending_events(), 5u);
  for (int i = 160; i < 400; ++i) {
    const TrainResult rb = b.Train(events[i]);
    if (i >= 165) {
      ASSERT_EQ(a.Train(events[i]).prediction, rb.prediction) << i;
    }
  }
  EXPECT_EQ(a.optimizer_step(), b.optimizer_step());
  EXPECT_EQ(Tables(a), Tables(b));
}

TEST_P(DeepFmModelTestKernels, SnapshotScoresWhatTheTrainerPredicts) {
  ModelConfig c = Small(16, 0.5, GetParam());
  c.dnn.fields = {"user", "item_id", "tag"};
  c.crosses = {{{"user", "item_id"}}};
  DnnModel m(c);
  for (const Example& e : Stream(640, 3)) m.Train(e);
  std::shared_ptr<const Snapshot> s = m.Publish(1, 640, nullptr);
  Rng rng(17);
  for (int trial = 0; trial < 20; ++trial) {
    const FeatureVector context = {Cat("user", "u" + std::to_string(trial % 5)),
                                   Num("age", float(rng.Uniform())), Cat("tag", "t1"),
                                   Cat("genre", "g1")};
    std::vector<FeatureVector> items;
    for (int i = 0; i < 6; ++i) {
      FeatureVector item = {Cat("item_id", "m" + std::to_string(i))};
      if (i % 2 == 0) item.push_back(Cat("tag", "t" + std::to_string(i)));
      if (i % 3 == 0) item.push_back(Num("age", 0.25f));
      items.push_back(item);
    }
    std::vector<double> scores(items.size());
    s->Score(context, items, scores);
    for (size_t i = 0; i < items.size(); ++i) {
      FeatureVector all = context;
      all.insert(all.end(), items[i].begin(), items[i].end());
      EXPECT_NEAR(scores[i], m.Predict(all), 2e-6) << "trial " << trial << " item " << i;
    }
  }
  EXPECT_EQ(s->parameter_count(), m.parameter_count());
  PublishCost cost;
  EXPECT_FALSE(m.HasChanges());
  m.Publish(2, 640, &cost);
  EXPECT_EQ(cost.chunks_copied, 0u);
}

TEST(DeepFmModelTest, HugeInputsNeverGiveNaN) {
  for (float huge : {1e30f, 3e38f}) {
    DnnModel m(Small(4, 0.5));
    Rng rng(1);
    for (int i = 0; i < 200; ++i) {
      FeatureVector f = SmallEvent(rng);
      if (i % 3 == 0) f.push_back(Num("age", huge));    // dense
      if (i % 5 == 0) f.push_back(Num("user", -huge));  // embedded and linear
      if (i % 7 == 0) f.push_back(Num("price", huge));  // other slot
      const TrainResult r = m.Train({f, i < 100 ? 0.0f : 1.0f, 1.0f});
      ASSERT_FALSE(std::isnan(r.prediction)) << i;
      ASSERT_GE(r.prediction, 0.0);
      ASSERT_LE(r.prediction, 1.0);
      ASSERT_FALSE(std::isnan(m.Predict(f)));
    }
    for (const StateTable& t : m.StateTables()) {
      for (float v : t.table->values()) ASSERT_TRUE(std::isfinite(v)) << t.name;
    }
    std::shared_ptr<const Snapshot> s = m.Publish(1, 200, nullptr);
    Rng again(1);
    const FeatureVector context = {Num("user", huge)};
    EXPECT_FALSE(std::isnan(s->ScoreOne(context, SmallEvent(again))));
  }
}

TEST(DeepFmModelTest, StateTablesAndParameters) {
  DnnModel m(Small());
  std::vector<std::string> names;
  for (const StateTable& t : m.StateTables()) names.push_back(t.name);
  const std::vector<std::string> expected = {
      "dnn.embeddings", "dnn.l0.w", "dnn.l0.b", "dnn.l1.w", "dnn.l1.b", "dnn.l2.w", "dnn.l2.b",
      "deepfm.linear",
      "dnn.adam.m.embeddings", "dnn.adam.m.l0.w", "dnn.adam.m.l0.b", "dnn.adam.m.l1.w",
      "dnn.adam.m.l1.b", "dnn.adam.m.l2.w", "dnn.adam.m.l2.b",
      "dnn.adam.v.embeddings", "dnn.adam.v.l0.w", "dnn.adam.v.l0.b", "dnn.adam.v.l1.w",
      "dnn.adam.v.l1.b", "dnn.adam.v.l2.w", "dnn.adam.v.l2.b",
      "deepfm.adam.m.linear", "deepfm.adam.v.linear"};
  EXPECT_EQ(names, expected);
  EXPECT_EQ(m.nonzero_parameters(), 0u);
  // 2^8 x (4 embedding floats + 1 linear weight), (3 slots x 4 + 1) -> 6 -> 3 -> 1.
  EXPECT_EQ(m.parameter_count(), 256u * 5 + (13 * 6 + 6) + (6 * 3 + 3) + (3 + 1));
}

TEST(DeepFmModelTest, ConfigDefaultsAndValidation) {
  const ModelConfig d = DefaultModelConfig(ModelKind::kDeepFm);
  EXPECT_EQ(d.optimizer.kind, OptimizerKind::kAdam);
  EXPECT_EQ(d.optimizer.learning_rate, 0.001);
  EXPECT_TRUE(Validate(d).ok());
  EXPECT_TRUE(CreateModel(d).ok());
  EXPECT_EQ(ModelKindName(ModelKind::kDeepFm), "DeepFM");
  ModelConfig c = d;
  c.optimizer = DefaultOptimizerConfig(OptimizerKind::kFtrl);
  absl::Status s = Validate(c);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("FTRL is not supported for kind DEEPFM"), std::string_view::npos)
      << s.message();
  c = d;
  c.dnn.batch_size = 0;
  EXPECT_NE(Validate(c).message().find("dnn.batch_size out of range"), std::string_view::npos);
  c = d;
  c.dnn.embedding_dim = 257;
  EXPECT_NE(Validate(c).message().find("dnn.embedding_dim out of range"), std::string_view::npos);
  EXPECT_FALSE(CreateModel(c).ok());
}

// The two arithmetics compute the same functions: on the same trained state (an Eigen
// model's tables copied into an ordered one at a batch boundary) their predictions agree
// closely (not bitwise: the sums run in other orders), and so do the tables after a few
// more batches from there.
TEST(DeepFmModelTest, BothKernelsAgreeCloselyOnTheSameState) {
  // Wide enough layers for Eigen's blocked products to sum in another order.
  ModelConfig c = Small(32, 0.5, DnnKernels::kEigen);
  c.dnn.hidden = {64, 32};
  model_testing::ExpectBothKernelsAgree(c, Stream(1600, 31), SmallEvent);
}

// Deferred predictions (kOrdered) are what Train gives each event alone, bit for bit
// (tests/testing/dnn_checks.h).
TEST(DeepFmModelTest, DeferredPredictionsAreTrainsBitForBit) {
  model_testing::ExpectDeferredPredictionsAreTrains(Small(8, 0.5), Stream(300, 43));
}

}  // namespace
}  // namespace streamrec::model
