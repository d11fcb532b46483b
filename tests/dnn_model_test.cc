// DnnModel (model/dnn_model.h; its batch update against finite differences of the mean
// log loss, with every optimizer, is in gradient_check_test.cc): the brief's exact model gets
// within 3 points of the Bayes accuracy on a logistic teacher; a user-group x item-group
// interaction that logistic regression cannot learn is learned; the same events give
// bit-identical tables, and a model restored at a batch boundary continues bit for bit
// (replaying the pending events); snapshots score what the trainer predicts; huge inputs
// and one-sided labels never give a NaN; pending events are counted; bad configs are
// refused naming the field.
#include "model/dnn_model.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "model/hash.h"
#include "model/linear_model.h"
#include "model/loss.h"
#include "tests/testing/dnn_checks.h"
#include "tests/testing/model_events.h"

namespace streamrec::model {
namespace {

using model_testing::AddVector;
using model_testing::Cat;
using model_testing::Num;
using model_testing::Rng;
using model_testing::Tables;

// A small config with every input kind: two embedded fields, a 3-dim vector and a
// number as dense inputs, the other slot.
ModelConfig Small(uint32_t batch = 4, double dropout = 0.0,
                  DnnKernels kernels = DnnKernels::kOrdered) {
  ModelConfig c = DefaultModelConfig(ModelKind::kDnn);
  c.dnn.kernels = kernels;
  c.hash_bits = 8;
  c.dnn.embedding_dim = 4;
  c.dnn.hidden = {6, 3};
  c.dnn.dropout = dropout;
  c.dnn.batch_size = batch;
  c.dnn.fields = {"user", "item_id"};
  c.dnn.dense_fields = {{"x", 3}, {"age", 1}};
  return c;
}

FeatureVector SmallEvent(Rng& rng) {
  FeatureVector f = {Cat("user", "u" + std::to_string(rng.Next() % 5)),
                     Cat("item_id", "m" + std::to_string(rng.Next() % 7)),
                     Num("age", static_cast<float>(rng.Uniform() * 2)),
                     Cat("genre", "g" + std::to_string(rng.Next() % 3)),
                     Cat("genre", "g" + std::to_string(3 + rng.Next() % 3))};
  AddVector(f, "x", {float(rng.Gauss()), float(rng.Gauss()), float(rng.Gauss())});
  return f;
}

// The brief's model on 128-dim Gaussian inputs labelled by a logistic teacher,
// logit = 5 * u.x for a fixed unit vector u: logit ~ N(0, 25), so the Bayes-optimal
// accuracy is E[sigmoid(|logit|)] = 0.8945 (numerical integration; the stream's own
// teacher accuracy is printed beside it).
TEST(DnnModelTest, BriefModelComesWithinThreePointsOfBayesAccuracy) {
  ModelConfig c = DefaultModelConfig(ModelKind::kDnn);
  c.hash_bits = 4;
  c.dnn.dense_fields = {{"x", 128}};
  c.dnn.other_slot = false;
  ASSERT_TRUE(Validate(c).ok());
  DnnModel m(c);
  EXPECT_EQ(m.layers().w[0].rows(), 256);
  EXPECT_EQ(m.layers().w[0].cols(), 128);
  EXPECT_EQ(m.layers().w[1].rows(), 128);
  EXPECT_EQ(m.layers().w[2].rows(), 1);
  EXPECT_EQ(c.optimizer.kind, OptimizerKind::kAdam);
  EXPECT_EQ(c.optimizer.learning_rate, 0.001);
  Rng rng(2024);
  std::vector<double> u(128);
  double norm = 0;
  for (double& x : u) {
    x = rng.Gauss();
    norm += x * x;
  }
  for (double& x : u) x /= std::sqrt(norm);
  const int kEvents = 36000, kMeasured = 12000;
  int right = 0, teacher_right = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kEvents; ++i) {
    std::vector<float> x(128);
    double logit = 0;
    for (int d = 0; d < 128; ++d) logit += 5 * u[d] * (x[d] = static_cast<float>(rng.Gauss()));
    const float label = rng.Uniform() < Sigmoid(logit) ? 1.0f : 0.0f;
    FeatureVector f;
    AddVector(f, "x", x);
    const TrainResult r = m.Train({f, label, 1.0f});
    if (i >= kEvents - kMeasured) {
      right += (r.prediction >= 0.5) == (label == 1.0f);
      teacher_right += (logit >= 0) == (label == 1.0f);
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double accuracy = double(right) / kMeasured;
  std::printf("brief model: progressive accuracy %.4f over the last %d of %d events; Bayes "
              "0.8945 (teacher on this stream %.4f); %.0f events/s\n",
              accuracy, kMeasured, kEvents, double(teacher_right) / kMeasured,
              kEvents / seconds);
  EXPECT_GE(accuracy, 0.8945 - 0.03);
}

// Clicks depend only on user group x item group (same group: 85%, else 15%): no sum of
// a user and an item weight separates that; the embeddings' product does.
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

TEST(DnnModelTest, LearnsAnInteractionLogisticRegressionCannot) {
  ModelConfig c = DefaultModelConfig(ModelKind::kDnn);
  c.hash_bits = 12;
  c.dnn.fields = {"user", "item_id"};
  c.dnn.hidden = {32, 16};
  c.dnn.dropout = 0.1;
  c.dnn.batch_size = 32;
  c.optimizer.learning_rate = 0.01;
  DnnModel dnn(c);
  ModelConfig lc;
  lc.hash_bits = 12;
  lc.optimizer = DefaultOptimizerConfig(OptimizerKind::kFtrl);
  LinearModel linear(lc);
  const double dnn_loss = LateLogLoss(dnn), linear_loss = LateLogLoss(linear);
  std::printf("interaction: progressive logloss over the last quarter: dnn %.4f, logistic "
              "%.4f, optimum %.4f\n",
              dnn_loss, linear_loss, -(0.85 * std::log(0.85) + 0.15 * std::log(0.15)));
  EXPECT_GT(linear_loss, 0.66);
  EXPECT_LT(dnn_loss, 0.50);
}

std::vector<Example> Stream(int n, uint64_t seed) {
  return model_testing::Stream(n, seed, SmallEvent);
}

// The determinism tests run for both training arithmetics (dnn.kernels).
class DnnModelTestKernels : public testing::TestWithParam<DnnKernels> {};
INSTANTIATE_TEST_SUITE_P(Both, DnnModelTestKernels, model_testing::kBothKernels,
                         model_testing::KernelsName);

TEST_P(DnnModelTestKernels, SameEventsGiveBitIdenticalTables) {
  const ModelConfig c = Small(8, 0.5, GetParam());
  DnnModel a(c), b(c);
  for (const Example& e : Stream(203, 5)) {
    const TrainResult ra = a.Train(e), rb = b.Train(e);
    ASSERT_EQ(ra.prediction, rb.prediction);
  }
  EXPECT_EQ(a.optimizer_step(), 25u);
  EXPECT_EQ(Tables(a), Tables(b));
  EXPECT_GT(a.nonzero_parameters(), 0u);
}

// FlushPending applies the pending events as a batch of their own: the same update as
// a model whose batches are that size (the dropout positions of a first batch agree), one
// optimizer step; with nothing pending it changes nothing.
TEST_P(DnnModelTestKernels, FlushPendingAppliesAPartialBatch) {
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

TEST_P(DnnModelTestKernels, RestoredAtABatchBoundaryContinuesBitForBit) {
  const ModelConfig c = Small(8, 0.5, GetParam());
  const std::vector<Example> events = Stream(400, 11);
  DnnModel a(c);
  for (int i = 0; i < 160; ++i) a.Train(events[i]);
  // Checkpoint at the boundary (event 160), then 5 more events are pending in `a`.
  DnnModel b(c);
  std::vector<StateTable> from = a.StateTables(), to = b.StateTables();
  ASSERT_EQ(from.size(), to.size());
  for (size_t t = 0; t < from.size(); ++t) {
    ASSERT_EQ(from[t].name, to[t].name);
    for (size_t k = 0; k < from[t].table->num_chunks(); ++k) {
      to[t].table->SetChunk(k, from[t].table->ChunkData(k), from[t].table->ChunkSize(k));
    }
  }
  b.ResetPublishBase();
  b.DiscardPending();
  b.set_optimizer_step(a.optimizer_step());
  for (int i = 160; i < 165; ++i) a.Train(events[i]);
  EXPECT_EQ(a.pending_events(), 5u);
  // b replays the pending events, then both go on.
  for (int i = 160; i < 400; ++i) {
    const TrainResult rb = b.Train(events[i]);
    if (i >= 165) {
      ASSERT_EQ(a.Train(events[i]).prediction, rb.prediction) << i;
    }
  }
  EXPECT_EQ(a.optimizer_step(), b.optimizer_step());
  EXPECT_EQ(Tables(a), Tables(b));
}

TEST_P(DnnModelTestKernels, SnapshotScoresWhatTheTrainerPredicts) {
  ModelConfig c = Small(16, 0.5, GetParam());
  c.dnn.fields = {"user", "item_id", "tag"};
  c.crosses = {{{"user", "item_id"}}};
  DnnModel m(c);
  for (const Example& e : Stream(640, 3)) m.Train(e);
  std::shared_ptr<const Snapshot> s = m.Publish(1, 640, nullptr);
  Rng rng(17);
  for (int trial = 0; trial < 20; ++trial) {
    FeatureVector context = {Cat("user", "u" + std::to_string(trial % 5)),
                             Num("age", float(rng.Uniform())),
                             Cat("tag", "t1")};  // "tag" on both sides: pooled over both
    AddVector(context, "x", {float(rng.Gauss()), float(rng.Gauss()), float(rng.Gauss())});
    std::vector<FeatureVector> items;
    for (int i = 0; i < 6; ++i) {
      FeatureVector item = {Cat("item_id", "m" + std::to_string(i)),
                            Cat("genre", "g" + std::to_string(i % 3))};
      if (i % 2 == 0) item.push_back(Cat("tag", "t" + std::to_string(i)));
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
  // Publishing again with nothing applied copies nothing.
  PublishCost cost;
  EXPECT_FALSE(m.HasChanges());
  m.Publish(2, 640, &cost);
  EXPECT_EQ(cost.chunks_copied, 0u);
}

// Serving threads share one snapshot (run under TSan by scripts/test --tsan).
TEST(DnnModelTest, SnapshotScoresFromManyThreadsAlike) {
  DnnModel m(Small(8, 0.5));
  for (const Example& e : Stream(400, 21)) m.Train(e);
  std::shared_ptr<const Snapshot> s = m.Publish(1, 400, nullptr);
  Rng rng(5);
  const FeatureVector context = {Cat("user", "u1"), Num("age", 0.5f)};
  std::vector<FeatureVector> items;
  for (int i = 0; i < 16; ++i) items.push_back(SmallEvent(rng));
  std::vector<double> expected(items.size());
  s->Score(context, items, expected);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<double> scores(items.size());
      for (int r = 0; r < 50; ++r) {
        s->Score(context, items, scores);
        mismatches[t] += scores != expected;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

// The server's restore overwrites the tables (SetChunk) of a model that already
// published, then publishes without ResetPublishBase: the snapshot must show the new
// layers, as it does the new embedding chunks.
TEST(DnnModelTest, PublishAfterTablesAreOverwrittenShowsThem) {
  const ModelConfig c = Small(8, 0.5);
  DnnModel trained(c), restored(c);
  for (const Example& e : Stream(160, 8)) trained.Train(e);
  restored.Publish(1, 0, nullptr);
  std::vector<StateTable> from = trained.StateTables(), to = restored.StateTables();
  for (size_t t = 0; t < from.size(); ++t) {
    for (size_t k = 0; k < from[t].table->num_chunks(); ++k) {
      to[t].table->SetChunk(k, from[t].table->ChunkData(k), from[t].table->ChunkSize(k));
    }
  }
  EXPECT_TRUE(restored.HasChanges());
  std::shared_ptr<const Snapshot> a = trained.Publish(2, 160, nullptr);
  std::shared_ptr<const Snapshot> b = restored.Publish(2, 160, nullptr);
  Rng rng(3);
  for (int i = 0; i < 10; ++i) {
    const FeatureVector f = SmallEvent(rng);
    EXPECT_EQ(a->ScoreOne({}, f), b->ScoreOne({}, f));
  }
}

bool AllFinite(DnnModel& m) {
  for (const StateTable& t : m.StateTables()) {
    for (float v : t.table->values()) {
      if (!std::isfinite(v)) return false;
    }
  }
  return true;
}

TEST(DnnModelTest, HugeInputsAndOneSidedLabelsNeverGiveNaN) {
  for (float huge : {1e30f, 3e38f}) {
    DnnModel m(Small(4, 0.5));
    Rng rng(1);
    int skipped = 0;
    for (int i = 0; i < 200; ++i) {
      FeatureVector f = SmallEvent(rng);
      if (i % 3 == 0) f.push_back(Num("age", huge));                 // dense
      if (i % 11 == 0) f.push_back(Num("age", huge));                // twice: inf input
      if (i % 5 == 0) f.push_back(Num("user", -huge));               // embedded number
      if (i % 7 == 0) f.push_back(Num("price", huge));               // other slot
      const float label = i < 100 ? 0.0f : 1.0f;                     // all 0, then all 1
      const TrainResult r = m.Train({f, label, 1.0f});
      ASSERT_FALSE(std::isnan(r.prediction)) << i;
      ASSERT_GE(r.prediction, 0.0);
      ASSERT_LE(r.prediction, 1.0);
      skipped += r.skipped_nonfinite;
      ASSERT_FALSE(std::isnan(m.Predict(f)));
    }
    EXPECT_TRUE(AllFinite(m)) << huge;
    if (huge > 1e38f) {
      EXPECT_GT(skipped, 0);  // an inf input skips its batch
    }
    std::printf("inputs of %g: %d of 50 batches skipped\n", huge, skipped);
  }
  // One-sided labels alone: the predictions go to the edge, never NaN, never 0 or 1
  // exactly in a way that breaks the log loss.
  DnnModel m(Small(4, 0.0));
  Rng rng(2);
  for (int i = 0; i < 2000; ++i) {
    const TrainResult r = m.Train({SmallEvent(rng), 1.0f, 1.0f});
    ASSERT_FALSE(std::isnan(r.prediction));
    ASSERT_TRUE(std::isfinite(LogLoss(r.prediction, 1.0)));
  }
  EXPECT_TRUE(AllFinite(m));
}

TEST(DnnModelTest, PendingEventsAreCountedAndDiscarded) {
  DnnModel m(Small(8));
  const std::vector<Example> events = Stream(21, 4);
  for (int i = 0; i < 7; ++i) m.Train(events[i]);
  EXPECT_EQ(m.pending_events(), 7u);
  EXPECT_EQ(m.optimizer_step(), 0u);
  EXPECT_EQ(m.nonzero_parameters(), 0u);  // nothing applied yet
  m.Train(events[7]);
  EXPECT_EQ(m.pending_events(), 0u);
  EXPECT_EQ(m.optimizer_step(), 1u);
  EXPECT_GT(m.nonzero_parameters(), 0u);
  for (int i = 8; i < 11; ++i) m.Train(events[i]);
  EXPECT_EQ(m.pending_events(), 3u);
  const auto before = Tables(m);
  m.DiscardPending();
  EXPECT_EQ(m.pending_events(), 0u);
  EXPECT_EQ(Tables(m), before);
  // The per-event models never hold events back.
  ModelConfig lc;
  lc.hash_bits = 8;
  std::unique_ptr<Model> linear = *CreateModel(lc);
  linear->Train(events[0]);
  EXPECT_EQ(linear->pending_events(), 0u);
}

TEST(DnnModelTest, StateTablesHaveStableNames) {
  DnnModel m(Small());
  std::vector<std::string> names;
  for (const StateTable& t : m.StateTables()) names.push_back(t.name);
  const std::vector<std::string> expected = {
      "dnn.embeddings", "dnn.l0.w", "dnn.l0.b", "dnn.l1.w", "dnn.l1.b", "dnn.l2.w", "dnn.l2.b",
      "dnn.adam.m.embeddings", "dnn.adam.m.l0.w", "dnn.adam.m.l0.b", "dnn.adam.m.l1.w",
      "dnn.adam.m.l1.b", "dnn.adam.m.l2.w", "dnn.adam.m.l2.b",
      "dnn.adam.v.embeddings", "dnn.adam.v.l0.w", "dnn.adam.v.l0.b", "dnn.adam.v.l1.w",
      "dnn.adam.v.l1.b", "dnn.adam.v.l2.w", "dnn.adam.v.l2.b"};
  EXPECT_EQ(names, expected);
  // An untrained model is all zeros (differences from the start).
  EXPECT_EQ(m.nonzero_parameters(), 0u);
  // (3 slots x 4 + 3 + 1) inputs -> 6 -> 3 -> 1, and 2^8 x 4 embedding floats.
  EXPECT_EQ(m.parameter_count(), 256u * 4 + (16 * 6 + 6) + (6 * 3 + 3) + (3 + 1));
}

TEST(DnnModelTest, BadConfigsAreRefusedNamingTheField) {
  struct Case {
    void (*edit)(ModelConfig&);
    const char* message;
  };
  const Case cases[] = {
      {[](ModelConfig& c) { c.dnn.embedding_dim = 0; }, "dnn.embedding_dim out of range"},
      {[](ModelConfig& c) { c.dnn.hidden = {}; }, "dnn.hidden: 0 layers"},
      {[](ModelConfig& c) { c.dnn.hidden = {8, 0}; }, "dnn.hidden[1] out of range"},
      {[](ModelConfig& c) { c.dnn.dropout = 1.0; }, "dnn.dropout out of range"},
      {[](ModelConfig& c) { c.dnn.dropout = NAN; }, "dnn.dropout out of range"},
      {[](ModelConfig& c) { c.dnn.batch_size = 0; }, "dnn.batch_size out of range"},
      {[](ModelConfig& c) { c.dnn.batch_size = 4097; }, "dnn.batch_size out of range"},
      {[](ModelConfig& c) { c.dnn.clip_norm = -1; }, "dnn.clip_norm out of range"},
      {[](ModelConfig& c) { c.dnn.fields = {"a", ""}; }, "dnn.fields[1]"},
      {[](ModelConfig& c) { c.dnn.fields = {"a", "a"}; }, "dnn.fields[1]: field \"a\" listed twice"},
      {[](ModelConfig& c) { c.dnn.dense_fields = {{"user", 2}}; }, "dnn.dense_fields[0]: field \"user\" listed twice"},
      {[](ModelConfig& c) { c.dnn.dense_fields = {{"x", 0}}; }, "dnn.dense_fields[0]: dimension of \"x\""},
      {[](ModelConfig& c) {
         c.dnn.fields = {};
         c.dnn.other_slot = false;
       }, "dnn.fields: no inputs"},
      {[](ModelConfig& c) { c.hash_bits = 28; }, "dnn.embedding_dim x 2^hash_bits"},
      {[](ModelConfig& c) { c.optimizer = DefaultOptimizerConfig(OptimizerKind::kFtrl); },
       "optimizer.kind FTRL is not supported for kind DNN"},
      {[](ModelConfig& c) { c.optimizer.normalized = true; },
       "optimizer.normalized is for linear weights"},
      {[](ModelConfig& c) { c.dnn.dense_fields = {{"item_id", 1}}; },
       "dnn.dense_fields[0]: item_id is a category"},
  };
  for (const Case& k : cases) {
    ModelConfig c = DefaultModelConfig(ModelKind::kDnn);
    c.dnn.fields = {"user"};
    k.edit(c);
    const absl::Status s = Validate(c);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << k.message;
    EXPECT_NE(s.message().find(k.message), std::string_view::npos) << s.message();
    EXPECT_FALSE(CreateModel(c).ok());
  }
  EXPECT_TRUE(Validate(DefaultModelConfig(ModelKind::kDnn)).ok());
  EXPECT_EQ(ModelKindName(ModelKind::kDnn), "deep neural network");
}

// The two arithmetics compute the same functions: on the same trained state (an Eigen
// model's tables copied into an ordered one at a batch boundary) their predictions agree
// closely (not bitwise: the sums run in other orders), and so do the tables after a few
// more batches from there.
TEST(DnnModelTest, BothKernelsAgreeCloselyOnTheSameState) {
  // Wide enough layers for Eigen's blocked products to sum in another order.
  ModelConfig c = Small(32, 0.5, DnnKernels::kEigen);
  c.dnn.hidden = {64, 32};
  model_testing::ExpectBothKernelsAgree(c, Stream(1600, 31), SmallEvent);
}

// DnnInputs' direct index (the input after the last dense one placed, tried before the
// hash map) routes exactly as the map: components in order, reversed, repeated, a
// dimension beyond the field's (to the other slot) and a number field by its name.
TEST(DnnModelTest, DenseInputsRouteTheSameInAnyOrder) {
  const ModelConfig c = Small();  // dense: x (3 dims) at 0..2, age at 3
  const DnnInputs inputs(c);
  const uint64_t x = HashName("x");
  auto component = [&](uint32_t i, float v) {
    return HashedFeature{HashVectorDim(x, i), v, FieldId(x)};
  };
  using Dense = std::vector<std::pair<uint32_t, float>>;
  auto route = [&](const FeatureVector& f) {
    EncodedEvent e;
    inputs.Add(f, e);
    return e;
  };
  EXPECT_EQ(route({component(0, 1), component(1, 2), component(2, 3), Num("age", 4)}).dense,
            (Dense{{0, 1}, {1, 2}, {2, 3}, {3, 4}}));
  EXPECT_EQ(route({Num("age", 4), component(2, 3), component(1, 2), component(0, 1)}).dense,
            (Dense{{3, 4}, {2, 3}, {1, 2}, {0, 1}}));
  EXPECT_EQ(route({component(1, 2), component(1, 5), component(2, 3), component(0, 1)}).dense,
            (Dense{{1, 2}, {1, 5}, {2, 3}, {0, 1}}));
  // A component sent under another field id is not that input.
  HashedFeature foreign = component(0, 1);
  foreign.field = FieldId(HashName("y"));
  const EncodedEvent beyond = route({component(0, 1), component(3, 7), foreign});
  EXPECT_EQ(beyond.dense, (Dense{{0, 1}}));
  ASSERT_EQ(beyond.embedded.size(), 2u);  // dimension 3 of x and the foreign one
  EXPECT_EQ(beyond.embedded[0].slot, 2u);  // the other slot
  EXPECT_EQ(beyond.embedded[1].slot, 2u);
}

// Deferred predictions (kOrdered) are what Train gives each event alone, bit for bit
// (tests/testing/dnn_checks.h).
TEST(DnnModelTest, DeferredPredictionsAreTrainsBitForBit) {
  model_testing::ExpectDeferredPredictionsAreTrains(Small(8, 0.5), Stream(300, 43));
}

}  // namespace
}  // namespace streamrec::model
