// FmModel (model/fm_model.h; its update against finite differences of the log loss, with
// every optimizer, is in gradient_check_test.cc): the score is the FM formula computed
// independently from its parameters; an interaction no additive model can learn is
// learned without crosses; the snapshot scores what the trainer scores, across the
// context/item split; a model rebuilt from its state tables continues bit for bit; the
// same events give the same parameters.
#include "model/fm_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "model/hash.h"
#include "model/linear_model.h"
#include "model/loss.h"

namespace streamrec::model {
namespace {

HashedFeature Cat(const char* field, const std::string& value, float v = 1.0f) {
  const uint64_t name = HashName(field);
  return {HashCategory(name, value), v, FieldId(name)};
}

ModelConfig Fm(OptimizerKind kind, uint32_t k = 4, uint32_t bits = 16) {
  ModelConfig c;
  c.kind = ModelKind::kFm;
  c.hash_bits = bits;
  c.fm_factors = k;
  c.optimizer = DefaultOptimizerConfig(kind);
  return c;
}

// The FM's logit of one event from the parameters read off the model, by its formula
// (fm_model.h): w0 + sum_i w_i x_i + 1/2 sum_f [(sum_i v_if x_i)^2 - sum_i v_if^2 x_i^2].
double FormulaLogit(const FmModel& m, const std::vector<std::pair<size_t, float>>& x) {
  const uint32_t k = m.config().fm_factors;
  double logit = m.Weight(m.rows());
  std::vector<double> sums(k, 0.0);
  double squares = 0;
  for (const auto& [r, xv] : x) {
    logit += double{m.Weight(r)} * xv;
    for (uint32_t f = 0; f < k; ++f) {
      const double vx = double{m.Factor(r, f)} * xv;
      sums[f] += vx;
      squares += vx * vx;
    }
  }
  for (double s : sums) logit += 0.5 * s * s;
  return logit - 0.5 * squares;
}

// Plain and normalized (the default: factors divided by their row's scale), with values
// other than 1, after training has moved the factors.
TEST(FmModelTest, PredictIsTheFmFormula) {
  for (OptimizerKind kind : {OptimizerKind::kSgd, OptimizerKind::kFtrl}) {
    const ModelConfig c = Fm(kind, 3);
    FmModel m(c);
    for (int i = 0; i < 50; ++i) {
      m.Train({{Cat("user", "u" + std::to_string(i % 3)), Cat("item_id", "m" + std::to_string(i % 4)),
                Cat("hour", "h", 0.5f), Cat("price", "p", 0.5f * float(i % 7))},
               float(i % 2), 1.0f});
    }
    const FeatureVector event = {Cat("user", "u1"), Cat("item_id", "m2"), Cat("hour", "h", 0.5f),
                                 Cat("price", "p", 2.5f)};
    std::vector<std::pair<size_t, float>> x;
    for (const HashedFeature& f : event) x.push_back({RowOf(f.hash, c.hash_bits), f.value});
    EXPECT_NEAR(m.Predict(event), Sigmoid(FormulaLogit(m, x)), 1e-12) << OptimizerName(kind);
  }
}

double LateLogLoss(const ModelConfig& config) {
  std::unique_ptr<Model> m = *CreateModel(config);
  uint64_t state = 12345;
  double loss = 0;
  int counted = 0;
  for (int step = 0; step < 30000; ++step) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const int user = static_cast<int>((state >> 33) % 20);
    const int item = static_cast<int>((state >> 45) % 20);
    const float label = (user % 2) == (item % 2) ? 1.0f : 0.0f;
    const TrainResult r = m->Train(
        {{Cat("user", "u" + std::to_string(user)), Cat("item_id", "m" + std::to_string(item))},
         label, 1.0f});
    if (step >= 25000) {
      loss += LogLoss(r.prediction, label);
      ++counted;
    }
  }
  return loss / counted;
}

// Clicks exactly when the user's group equals the item's: no additive model beats the
// click rate (ln 2); the FM learns it from plain fields, with every optimizer.
TEST(FmModelTest, LearnsAnInteractionWithoutCrosses) {
  ModelConfig lr;
  lr.hash_bits = 16;
  EXPECT_GT(LateLogLoss(lr), 0.65);
  for (OptimizerKind kind : {OptimizerKind::kFtrl, OptimizerKind::kAdagrad, OptimizerKind::kAdam,
                             OptimizerKind::kSgd}) {
    EXPECT_LT(LateLogLoss(Fm(kind)), 0.2) << OptimizerName(kind);
  }
}

TEST(FmModelTest, SnapshotScoresWhatTheTrainerScores) {
  ModelConfig c = Fm(OptimizerKind::kAdam, 8, 18);
  c.crosses = {Cross{{"user", "hour"}}};
  FmModel m(c);
  auto event = [](int user, int item) {
    return FeatureVector{Cat("user", "u" + std::to_string(user)), Cat("hour", "9", 0.5f),
                         Cat("item_id", "m" + std::to_string(item)), Cat("genre", "g", 2.0f)};
  };
  for (int i = 0; i < 300; ++i) m.Train({event(i % 5, i % 7), float(i % 3 == 0), 1.0f});
  auto snap = m.Publish(1, 300, nullptr);
  for (int item = 0; item < 7; ++item) {
    const FeatureVector all = event(3, item);
    const FeatureVector context = {all[0], all[1]}, candidate = {all[2], all[3]};
    EXPECT_NEAR(snap->ScoreOne(context, candidate), m.Predict(all), 1e-9) << item;
  }
  EXPECT_EQ(snap->parameter_count(), (size_t{1} << 18) * 9 + 1);
}

TEST(FmModelTest, RebuiltFromStateTablesContinuesBitForBitAndIsDeterministic) {
  const ModelConfig c = Fm(OptimizerKind::kAdam);
  FmModel a(c), twin(c);
  auto train = [](FmModel& m, int from, int to) {
    for (int i = from; i < to; ++i) {
      m.Train({{Cat("user", "u" + std::to_string(i % 6)), Cat("item_id", "m" + std::to_string(i % 9))},
               float(i % 4 == 0), 1.0f});
    }
  };
  train(a, 0, 500);
  train(twin, 0, 500);
  FmModel restored(c);
  std::vector<StateTable> from = a.StateTables(), to = restored.StateTables();
  ASSERT_EQ(from.size(), to.size());
  for (size_t t = 0; t < from.size(); ++t) {
    EXPECT_EQ(from[t].name, to[t].name);
    for (size_t ch = 0; ch < from[t].table->num_chunks(); ++ch) {
      to[t].table->SetChunk(ch, from[t].table->ChunkData(ch), from[t].table->ChunkSize(ch));
    }
  }
  restored.set_optimizer_step(a.optimizer_step());
  train(a, 500, 800);
  train(restored, 500, 800);
  train(twin, 500, 800);
  for (size_t t = 0; t < from.size(); ++t) {
    EXPECT_EQ(a.StateTables()[t].table->values(), restored.StateTables()[t].table->values())
        << from[t].name;
    EXPECT_EQ(a.StateTables()[t].table->values(), twin.StateTables()[t].table->values())
        << from[t].name;
  }
}

TEST(FmModelTest, UntrainedFactorTableIsZerosAndConfigIsValidated) {
  FmModel m(Fm(OptimizerKind::kFtrl, 4, 10));
  for (const StateTable& t : m.StateTables()) {
    if (t.name == "factors") {
      EXPECT_EQ(t.table->nonzero(), 0u);  // differences from the start
    }
  }
  EXPECT_NE(m.Factor(3, 1), 0.0f);
  EXPECT_EQ(m.Factor(3, 1), FactorInit(3 * 4 + 1));
  ModelConfig too_big = Fm(OptimizerKind::kFtrl, 64, 24);
  EXPECT_FALSE(Validate(too_big).ok());
  ModelConfig zero = Fm(OptimizerKind::kFtrl, 0);
  EXPECT_FALSE(Validate(zero).ok());
}

// The default FM (normalized FTRL): a number's unit does not change the scores (counts
// and counts x 1000 score the same throughout), the snapshot scores what the trainer
// scores with the scales it carries, and a model rebuilt from the state tables (the
// scales among them) continues bit for bit.
TEST(FmModelTest, NormalizedFmIgnoresTheUnitOfANumberAndRestoresExactly) {
  ModelConfig c = Fm(OptimizerKind::kFtrl, 4, 14);
  ASSERT_TRUE(c.optimizer.normalized);
  FmModel a(c), b(c);
  const uint64_t count = HashName("count");
  auto event = [&](int i, float unit) {
    return FeatureVector{Cat("user", "u" + std::to_string(i % 6)),
                         Cat("item_id", "m" + std::to_string(i % 9)),
                         {count, unit * static_cast<float>((i * 7) % 40), FieldId(count)}};
  };
  for (int i = 0; i < 3000; ++i) {
    const float label = float((i % 6 < 3) == (i % 9 < 4));
    const double pa = a.Train({event(i, 1.0f), label, 1.0f}).prediction;
    const double pb = b.Train({event(i, 1000.0f), label, 1.0f}).prediction;
    ASSERT_NEAR(pa, pb, 1e-3) << "event " << i;
  }
  auto snap = b.Publish(1, 3000, nullptr);
  for (int i = 0; i < 9; ++i) {
    const FeatureVector all = event(i, 1000.0f);
    const FeatureVector context = {all[0], all[2]}, candidate = {all[1]};
    EXPECT_NEAR(snap->ScoreOne(context, candidate), b.Predict(all), 1e-6) << i;
  }
  FmModel restored(c);
  std::vector<StateTable> from = b.StateTables(), to = restored.StateTables();
  ASSERT_EQ(from.back().name, "optimizer_scale");
  for (size_t t = 0; t < from.size(); ++t) {
    for (size_t ch = 0; ch < from[t].table->num_chunks(); ++ch) {
      to[t].table->SetChunk(ch, from[t].table->ChunkData(ch), from[t].table->ChunkSize(ch));
    }
  }
  restored.set_optimizer_step(b.optimizer_step());
  for (int i = 3000; i < 3500; ++i) {
    const float label = float(i % 5 == 0);
    EXPECT_EQ(b.Train({event(i, 1000.0f), label, 1.0f}).prediction,
              restored.Train({event(i, 1000.0f), label, 1.0f}).prediction);
  }
  for (size_t t = 0; t < from.size(); ++t) {
    EXPECT_EQ(b.StateTables()[t].table->values(), restored.StateTables()[t].table->values())
        << from[t].name;
  }
}

}  // namespace
}  // namespace streamrec::model
