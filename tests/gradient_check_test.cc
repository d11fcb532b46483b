// Gradient checks, every model kind x every optimizer it accepts (issue 9). One real
// training step of the model must equal a standalone Optimizer (model/optimizer.h) with
// the same config, holding a copy of the model's optimizer state, stepped with the
// finite-difference gradient of the loss the model defines: weight x log loss of the
// event for the per-event models (logistic regression, with and without crosses, and
// the FM), the mean over the batch of weight x log loss for the mini-batch models (DNN,
// DeepFM). Every parameter the step touches is compared (its new value and every
// optimizer slot), and every other entry of every state table must stay as it was. So
// one check covers both halves of an update: the model's gradient, and how it hands the
// gradient to the optimizer (normalized scales and per-event rate, the FM factors on
// their row's scale at 0.3 times the rate, unregularized biases, the lazy rows, the
// batch's gradient clipping).
//
// Cases: logistic regression, logistic regression with crosses and FM x {SGD, Adagrad,
// Adam, FTRL} x {plain, normalized} (normalized FTRL is the default; Validate accepts
// normalized for every kind of these models); DNN and DeepFM x {SGD, Adagrad, Adam},
// plus Adam with the gradient clipped (FTRL and normalized are refused for them, see
// model_config.cc). Every case has L2 on, FTRL L1 too, numeric feature values other than
// 1 and a soft label; the models are trained first so the optimizer state is not at
// its start (Adam's moments and step, FTRL's z and n, the normalized scales).
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "absl/strings/str_cat.h"
#include "model/cross.h"
#include "model/dense_layers.h"
#include "model/dnn_inputs.h"
#include "model/dnn_model.h"
#include "model/fm_model.h"
#include "model/hash.h"
#include "model/linear_model.h"
#include "model/loss.h"
#include "model/model.h"
#include "model/optimizer.h"
#include "model/rows.h"
#include "tests/testing/model_events.h"

namespace streamrec::model {
namespace {

using model_testing::AddVector;
using model_testing::Cat;
using model_testing::Num;
using model_testing::Rng;

// Tolerances. The finite differences are taken in double (the per-event models score
// in double; the mini-batch models through a double re-evaluation of their forward
// pass), so they are far more precise than the models' own arithmetic; that arithmetic
// sets what a check allows, d = abs + rel |g| around the finite-difference gradient g:
//  - Per-event models: the model's gradient is computed in double and rounded to float,
//    as the expectation's is. The logit is linear in every single parameter (an FM
//    factor too), so the loss along one parameter is w logloss(a t + b), |L'''| <=
//    0.1 w |a|^3 < 20 here (|a| <= 5, price's weight; w <= 1.5), and the three-point
//    difference with steps <= 1e-5 is off by at most step^2 / 6 |L'''| ~ 3e-10, plus the
//    double rounding of the loss over the step (~1e-15 / 2e-6). abs 1e-8, rel 1e-7; the
//    cases pass with d = 0 (the gradient rounds to the same float).
//  - DNN and DeepFM: the model's forward and backward passes run in float (Eigen float
//    matrices), each term rounded at 2^-24; on these cases its gradients are within
//    2e-8 + 1e-6 |g| of the double reference (the cases pass with d that small). abs
//    2e-7, rel 2e-5: ten times that. The steps are 1e-6, so that no step crosses a
//    ReLU's kink (Prepare makes sure no pre-activation is within 1e-4 of one), where a
//    difference quotient is not the derivative.
// A broken gradient (a sign, a dropped factor or term) is off by orders of magnitude
// more. A coordinate passes when its new value and slots lie within what the standalone
// optimizer proposes for the gradients g - d, g and g + d (the rules are monotone in g,
// or smooth enough over d that the three bracket them), widened by the float rounding
// of storing a value as a difference from its start (4 ulps of the larger of the two).
struct Tolerance {
  double step;
  double abs;
  double rel;
};
constexpr Tolerance kPerEvent = {1e-5, 1e-8, 1e-7};
constexpr Tolerance kBatch = {1e-6, 2e-7, 2e-5};

// Group: coordinates of one table that a step updates through one optimizer.
struct Group {
  std::string name;
  ParamTable* table = nullptr;       // the stored values the step writes
  std::vector<ParamTable*> slots;    // the model's optimizer state for `table`
  Optimizer* expect = nullptr;       // the standalone optimizer for `table`
  bool regularize = true;            // l1 and l2 apply (not to biases)
  // The parameter the model computes with at coordinate i (start + stored, scaled).
  std::function<double(size_t)> value;
  // The start the table stores the difference from, in the units of value() (0 if the
  // table holds the value itself): storing a new value rounds at its magnitude.
  std::function<double(size_t)> start = [](size_t) { return 0.0; };
  std::vector<size_t> touched;
};

void CopyTable(const ParamTable& from, ParamTable& to) {
  ASSERT_EQ(from.size(), to.size());
  for (size_t c = 0; c < from.num_chunks(); ++c) to.SetChunk(c, from.ChunkData(c), from.ChunkSize(c));
}

ParamTable* Table(Model& m, const std::string& name) {
  for (const StateTable& t : m.StateTables()) {
    if (t.name == name) return t.table;
  }
  ADD_FAILURE() << "no state table " << name;
  return nullptr;
}

// Subject: a model, the events of its checked steps, and what the check needs to know
// about them.
class Subject {
 public:
  virtual ~Subject() = default;
  virtual Model& model() = 0;
  // Prepare sets up check `n` (0 or 1): the step's events and the groups it touches.
  virtual void Prepare(int n) = 0;
  // Loss: what the step descends, from the current tables.
  virtual double Loss() = 0;
  // Refresh: a table was written directly (the DNN rebuilds its layers from them).
  virtual void Refresh() {}
  // Around the finite differences: the normalized per-event models raise the scales to
  // the event's values before scoring it, so the differences are taken with them raised.
  virtual void BeginDifferences() {}
  virtual void EndDifferences() {}
  // BeginExpected: the standalone optimizers (their slots and step copied) begin the
  // step as the model's do: the scales copied and raised, the event's rate.
  virtual void BeginExpected() = 0;
  virtual double clip_norm() const { return 0; }
  // Step trains the events of the step; false if it was skipped as non-finite.
  virtual bool Step() = 0;
  // The model's normalized scales and the standalone's, or nulls.
  virtual std::pair<const ParamTable*, const ParamTable*> Scales() { return {nullptr, nullptr}; }
  std::vector<Group>& groups() { return groups_; }

 protected:
  std::vector<Group> groups_;
};

std::vector<ParamTable*> Slots(Model& m, const std::vector<std::string>& names) {
  std::vector<ParamTable*> out;
  for (const std::string& n : names) out.push_back(Table(m, n));
  return out;
}

// The per-event models: LinearModel and FmModel. Events: user, item_id, a number field
// (price, up to 4 in the warm-up) and a category of value 0.5.
class PerEventSubject : public Subject {
 public:
  explicit PerEventSubject(const ModelConfig& config)
      : config_(config), crosser_(config.crosses), rows_(size_t{1} << config.hash_bits) {
    absl::StatusOr<std::unique_ptr<Model>> created = CreateModel(config);
    model_ = std::move(*created);
    fm_ = dynamic_cast<FmModel*>(model_.get());
    weights_ = Table(*model_, "weights");
    expect_w_ = std::make_unique<Optimizer>(config.optimizer, rows_ + 1);
    const int slots = expect_w_->slots();
    for (int s = 0; s < slots; ++s) w_slots_.push_back(absl::StrCat("optimizer", s));
    if (fm_ != nullptr) {
      k_ = config.fm_factors;
      factors_ = Table(*model_, "factors");
      // fm_model.h: normalized factors learn at 0.3 times the weights' rate, on their
      // row's scale (the leader's) and the event's step.
      OptimizerConfig f = config.optimizer;
      if (f.normalized) f.learning_rate *= 0.3;
      expect_f_ = std::make_unique<Optimizer>(f, rows_ * k_, expect_w_.get(), k_);
      for (int s = 0; s < slots; ++s) f_slots_.push_back(absl::StrCat("factor_optimizer", s));
    }
    if (config.optimizer.normalized) scales_ = Table(*model_, "optimizer_scale");
    // The factors off their small start (std 0.01), so that their gradients, products of
    // the other rows' factors, are of the size of the weights'.
    for (size_t i = 0; factors_ != nullptr && i < factors_->size(); ++i) {
      factors_->Set(i, static_cast<float>(0.3 * std::sin(0.7 * double(i) + 1)));
    }
    Rng rng(7);
    for (int i = 0; i < 40; ++i) {
      FeatureVector f = {Cat("user", rng.Pick("u", 5)), Cat("item_id", rng.Pick("m", 7)),
                         Num("price", static_cast<float>(i % 9) * 0.5f),
                         Cat("genre", rng.Pick("g", 3), 0.5f)};
      model_->Train({f, rng.Uniform() < 0.4 ? 1.0f : 0.0f, 1.0f});
    }
  }

  Model& model() override { return *model_; }

  void Prepare(int n) override {
    // The first event has a category never seen (its state is fresh), the second raises
    // price's scale from 4 to 5 (normalized), a soft label and weight 0.5.
    if (n == 0) {
      event_ = {{Cat("user", "u1"), Cat("item_id", "m2"), Num("price", 2.5f),
                 Cat("genre", "g1", 0.5f), Cat("tag", "new")},
                1.0f, 1.5f};
    } else {
      event_ = {{Cat("user", "u3"), Cat("item_id", "m5"), Num("price", 5.0f),
                 Cat("genre", "g0", 0.5f)},
                0.25f, 0.5f};
    }
    // The rows the event scores: its features and their crosses, values of a row summed.
    FeatureVector crossed;
    crosser_.Append(event_.features, crossed);
    std::map<size_t, float> merged;
    for (const FeatureVector& fs : {event_.features, crossed}) {
      for (const HashedFeature& f : fs) merged[RowOf(f.hash, config_.hash_bits)] += f.value;
    }
    if (!config_.crosses.empty()) {
      EXPECT_EQ(crossed.size(), 2u);
    }
    coords_.clear();
    for (const auto& [row, value] : merged) coords_.push_back({row, value});
    Model& m = *model_;
    groups_.clear();
    Group w;
    w.name = "weights";
    w.table = weights_;
    w.slots = Slots(m, w_slots_);
    w.expect = expect_w_.get();
    w.value = [this](size_t i) { return double{weights_->Get(i)}; };
    for (const RowValue& c : coords_) w.touched.push_back(c.row);
    groups_.push_back(w);
    Group bias = w;
    bias.name = "bias";
    bias.regularize = false;  // optimizer.h: no l1, l2 on the bias
    bias.touched = {rows_};
    groups_.push_back(bias);
    if (fm_ != nullptr) {
      Group f;
      f.name = "factors";
      f.table = factors_;
      f.slots = Slots(m, f_slots_);
      f.expect = expect_f_.get();
      f.value = [this](size_t i) {
        return double{fm_->Factor(i / k_, static_cast<uint32_t>(i % k_))};
      };
      f.start = [this](size_t i) { return FactorInit(i) / Divisor(i / k_); };
      for (const RowValue& c : coords_) {
        for (uint32_t j = 0; j < k_; ++j) f.touched.push_back(c.row * k_ + j);
      }
      groups_.push_back(f);
    }
  }

  double Loss() override {
    return event_.weight * LogLoss(model_->Predict(event_.features), event_.label);
  }

  void BeginDifferences() override {
    if (scales_ == nullptr) return;
    saved_.clear();
    for (const RowValue& c : Coords()) {
      saved_.push_back({c.row, scales_->Get(c.row)});
      scales_->Set(c.row, std::max(scales_->Get(c.row), std::abs(c.value)));
    }
  }
  void EndDifferences() override {
    for (const auto& [row, s] : saved_) scales_->Set(row, s);
    saved_.clear();
  }

  void BeginExpected() override {
    if (scales_ != nullptr) CopyTable(*scales_, expect_w_->scale_table());
    // optimizer.h: the normalized rate is over every coordinate of the event, the bias
    // (value 1) included.
    expect_w_->BeginExample(Coords());
    if (expect_f_ != nullptr) expect_f_->Follow();
  }

  bool Step() override { return !model_->Train(event_).skipped_nonfinite; }

  std::pair<const ParamTable*, const ParamTable*> Scales() override {
    if (scales_ == nullptr) return {nullptr, nullptr};
    return {scales_, &expect_w_->scale_table()};
  }

 private:
  std::vector<RowValue> Coords() const {
    std::vector<RowValue> all = coords_;
    all.push_back({rows_, 1.0f});
    return all;
  }
  // What the FM divides a row's stored factors by (fm_model.h).
  double Divisor(size_t row) const {
    const float s = scales_ != nullptr ? scales_->Get(row) : 0.0f;
    return s > 0 ? s : 1.0;
  }

  ModelConfig config_;
  Crosser crosser_;
  size_t rows_;
  uint32_t k_ = 0;
  std::unique_ptr<Model> model_;
  FmModel* fm_ = nullptr;
  ParamTable *weights_ = nullptr, *factors_ = nullptr, *scales_ = nullptr;
  std::unique_ptr<Optimizer> expect_w_, expect_f_;
  std::vector<std::string> w_slots_, f_slots_;
  Example event_;
  std::vector<RowValue> coords_;  // the event's rows, without the bias
  std::vector<std::pair<size_t, float>> saved_;
};

// DnnModel's persisted slot names (dnn_model.h).
std::vector<std::string> DnnSlotNames(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::kAdagrad: return {"adagrad.n"};
    case OptimizerKind::kAdam: return {"adam.m", "adam.v"};
    default: return {};
  }
}

// The mini-batch models, DNN and DeepFM: two embedded fields (user, a list in one event;
// item_id), the other slot (genre at 1 and 0.5, a number field), dense inputs (a 3-dim
// vector, a number); DeepFM also a cross, into the other slot and the linear part.
class BatchSubject : public Subject {
 public:
  explicit BatchSubject(const ModelConfig& config)
      : config_(config), inputs_(config), crosser_(config.crosses), dim_(config.dnn.embedding_dim) {
    model_ = std::make_unique<DnnModel>(config);
    deepfm_ = config.kind == ModelKind::kDeepFm;
    Model& m = *model_;
    const std::vector<std::string> slots = DnnSlotNames(config.optimizer.kind);
    auto group = [&](const std::string& prefix, const std::string& table, bool regularize) {
      Group g;
      g.name = table;
      g.table = Table(m, prefix + "." + table);
      for (const std::string& s : slots) g.slots.push_back(Table(m, prefix + "." + s + "." + table));
      expect_.push_back(std::make_unique<Optimizer>(config.optimizer, g.table->size()));
      g.expect = expect_.back().get();
      g.regularize = regularize;
      return g;
    };
    Group e = group("dnn", "embeddings", true);
    e.value = [this](size_t i) { return model_->Embedding(i / dim_, static_cast<uint32_t>(i % dim_)); };
    e.start = [](size_t i) { return double{EmbeddingInit(i)}; };
    groups_.push_back(e);
    if (deepfm_) {
      Group l = group("deepfm", "linear", true);
      l.value = [this](size_t i) { return model_->Linear(i); };
      groups_.push_back(l);
    }
    for (size_t l = 0; l < model_->layers().layers(); ++l) {
      Group w = group("dnn", absl::StrCat("l", l, ".w"), true);
      w.value = [this, l](size_t i) { return double{model_->layers().w[l].data()[i]}; };
      const size_t in = model_->layers().w[l].cols(), out = model_->layers().w[l].rows();
      w.start = [l, in, out](size_t i) {
        return double{DenseInit(static_cast<uint32_t>(l), i, in, out)};
      };
      for (size_t i = 0; i < w.table->size(); ++i) w.touched.push_back(i);
      groups_.push_back(w);
      Group b = group("dnn", absl::StrCat("l", l, ".b"), false);  // biases: no l1, l2
      b.value = [this, l](size_t i) { return double{model_->layers().b[l][i]}; };
      for (size_t i = 0; i < b.table->size(); ++i) b.touched.push_back(i);
      groups_.push_back(b);
    }
    // Embeddings (and DeepFM's linear weights) off their small start, so the FM term (a
    // product of embeddings) has gradients of its own size; then a few batches, so the
    // optimizer state is not at its start.
    for (size_t i = 0; i < groups_[0].table->size(); ++i) {
      groups_[0].table->Set(i, static_cast<float>(0.3 * std::sin(0.7 * double(i) + 1)));
      if (deepfm_ && i < groups_[1].table->size()) {
        groups_[1].table->Set(i, static_cast<float>(0.2 * std::cos(0.3 * double(i))));
      }
    }
    model_->ResetPublishBase();
    Rng rng(11);
    for (int i = 0; i < 3 * static_cast<int>(config.dnn.batch_size); ++i) {
      model_->Train({RandomEvent(rng), rng.Uniform() < 0.4 ? 1.0f : 0.0f, 1.0f});
    }
  }

  Model& model() override { return *model_; }

  void Prepare(int n) override {
    Rng rng(100 + n);
    batch_.clear();
    const float labels[] = {1.0f, 0.0f, 0.25f, 1.0f}, weights[] = {0.5f, 1.0f, 1.5f, 2.0f};
    for (uint32_t e = 0; e < config_.dnn.batch_size; ++e) {
      batch_.push_back({RandomEvent(rng), labels[e % 4], weights[e % 4]});
    }
    batch_[1].features.push_back(Cat("user", "u9"));  // a list: mean pooling
    std::map<uint64_t, bool> rows;
    for (const Example& e : batch_) {
      for (const EmbeddedFeature& f : Encode(e.features).embedded) rows[f.row] = true;
    }
    for (Group& g : groups_) {
      if (g.name == "embeddings") {
        g.touched.clear();
        for (const auto& [row, unused] : rows) {
          for (uint32_t d = 0; d < dim_; ++d) g.touched.push_back(row * dim_ + d);
        }
      } else if (g.name == "linear") {
        g.touched.clear();
        for (const auto& [row, unused] : rows) g.touched.push_back(row);
      }
    }
    // The reference below is the model's function: it scores what Predict scores. No
    // hidden pre-activation is near a ReLU's kink (a unit whose inputs are all 0 and
    // whose bias never moved sits on it): the loss has no derivative there.
    double kink = INFINITY;
    for (const Example& e : batch_) {
      EXPECT_NEAR(Sigmoid(ReferenceLogit(e.features, &kink)), model_->Predict(e.features), 2e-6);
    }
    EXPECT_GT(kink, 1e-4) << "a ReLU at its kink: choose other events";
  }

  double Loss() override {
    double loss = 0;
    for (const Example& e : batch_) {
      loss += e.weight * LogLoss(Sigmoid(ReferenceLogit(e.features)), e.label);
    }
    return loss / static_cast<double>(batch_.size());
  }

  void Refresh() override { model_->ResetPublishBase(); }

  void BeginExpected() override {
    for (auto& opt : expect_) opt->BeginStep();
  }

  double clip_norm() const override { return config_.dnn.clip_norm; }

  bool Step() override {
    bool finite = true;
    for (const Example& e : batch_) finite = !model_->Train(e).skipped_nonfinite && finite;
    EXPECT_EQ(model_->pending_events(), 0u);
    return finite;
  }

 private:
  FeatureVector RandomEvent(Rng& rng) {
    FeatureVector f = {Cat("user", rng.Pick("u", 5)), Cat("item_id", rng.Pick("m", 7)),
                       Num("age", static_cast<float>(rng.Uniform() * 2)),
                       Cat("genre", rng.Pick("g", 3)), Cat("genre", rng.Pick("h", 3), 0.5f),
                       Num("score", 1.5f)};
    AddVector(f, "x", {float(rng.Gauss()), float(rng.Gauss()), float(rng.Gauss())});
    return f;
  }

  EncodedEvent Encode(const FeatureVector& features) const {
    EncodedEvent event;
    FeatureVector crossed;
    std::vector<uint32_t> counts;
    inputs_.Add(features, event);
    crosser_.Append(features, crossed);
    inputs_.Add(crossed, event);
    inputs_.Finish(event, counts);
    return event;
  }

  // ReferenceLogit: the model's logit in double, from its current parameters: the
  // pooled slots and dense inputs (dnn_inputs.h), the MLP, and for DeepFM the linear
  // part and the FM term over the slots (deepfm_terms.h).
  double ReferenceLogit(const FeatureVector& features, double* kinks = nullptr) const {
    const EncodedEvent event = Encode(features);
    Eigen::VectorXd x = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(inputs_.input_dim()));
    for (const EmbeddedFeature& f : event.embedded) {
      for (uint32_t d = 0; d < dim_; ++d) {
        x[f.slot * dim_ + d] += double{f.weight} * model_->Embedding(f.row, d);
      }
    }
    for (const auto& [index, value] : event.dense) x[inputs_.dense_offset() + index] += value;
    const Mlp& mlp = model_->layers();
    Eigen::VectorXd a = x;
    for (size_t l = 0; l < mlp.layers(); ++l) {
      Eigen::VectorXd z = mlp.w[l].cast<double>() * a + mlp.b[l].cast<double>();
      if (kinks != nullptr && l + 1 < mlp.layers()) *kinks = std::min(*kinks, z.cwiseAbs().minCoeff());
      if (l + 1 < mlp.layers()) z = z.cwiseMax(0.0);
      a = z;
    }
    double logit = a[0];
    if (deepfm_) {
      for (const EmbeddedFeature& f : event.embedded) logit += double{f.value} * model_->Linear(f.row);
      for (uint32_t d = 0; d < dim_; ++d) {
        double sum = 0, squares = 0;
        for (uint32_t s = 0; s < inputs_.slots(); ++s) {
          sum += x[s * dim_ + d];
          squares += x[s * dim_ + d] * x[s * dim_ + d];
        }
        logit += 0.5 * (sum * sum - squares);
      }
    }
    return logit;
  }

  ModelConfig config_;
  DnnInputs inputs_;
  Crosser crosser_;
  uint32_t dim_;
  bool deepfm_ = false;
  std::unique_ptr<DnnModel> model_;
  std::vector<std::unique_ptr<Optimizer>> expect_;
  std::vector<Example> batch_;
};

// Range: the values the standalone optimizer proposes for one coordinate over the
// gradient's tolerance.
struct Range {
  double lo = INFINITY, hi = -INFINITY, mid = 0;
  void Add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool Holds(double v, double slack) const { return v >= lo - slack && v <= hi + slack; }
};

// CheckStep: finite differences, the standalone optimizers' step, the model's step, and
// the comparison, for the subject's current check.
void CheckStep(Subject& subject, const Tolerance& tol) {
  Model& m = subject.model();
  std::vector<Group>& groups = subject.groups();

  // 1. The gradient by finite differences in the state tables: each stored value moved
  // by +-step (float, so the moves up and down differ slightly: the three-point formula
  // for unequal steps is exact to second order), the parameter read back through the
  // model's own accessor (the FM's factors and the DNN's weights are stored as
  // differences from their start).
  std::vector<std::vector<double>> grad(groups.size()), before(groups.size());
  subject.BeginDifferences();
  const double l0 = subject.Loss();
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    Group& g = groups[gi];
    for (size_t i : g.touched) {
      const float stored = g.table->Get(i);
      const double v = g.value(i);
      g.table->Set(i, static_cast<float>(stored + tol.step));
      subject.Refresh();
      const double a = g.value(i) - v, lu = subject.Loss();
      g.table->Set(i, static_cast<float>(stored - tol.step));
      subject.Refresh();
      const double b = v - g.value(i), ld = subject.Loss();
      g.table->Set(i, stored);
      subject.Refresh();
      ASSERT_GT(a, 0) << g.name << " " << i;
      ASSERT_GT(b, 0) << g.name << " " << i;
      grad[gi].push_back((b * b * (lu - l0) + a * a * (l0 - ld)) / (a * b * (a + b)));
      before[gi].push_back(v);
    }
  }
  subject.EndDifferences();

  // The batch's gradient clipped to clip_norm (dnn_model.h) as the model does: the
  // global norm over every parameter the batch updates. The tolerance of each component
  // grows by the scale's own: |d scale| / scale <= |d| / |g| over the whole vector.
  double scale = 1, scale_rel = 0;
  if (subject.clip_norm() > 0) {
    double norm2 = 0, err2 = 0;
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      for (double g : grad[gi]) {
        norm2 += g * g;
        err2 += std::pow(tol.abs + tol.rel * std::abs(g), 2);
      }
    }
    EXPECT_GT(std::sqrt(norm2), 1.5 * subject.clip_norm()) << "the case is meant to clip";
    if (std::sqrt(norm2) > subject.clip_norm()) {
      scale = subject.clip_norm() / std::sqrt(norm2);
      scale_rel = std::sqrt(err2 / norm2);
    }
  }

  // 2. The expectation: standalone optimizers with the model's state, one step with the
  // finite-difference gradient.
  for (Group& g : groups) {
    ASSERT_EQ(g.slots.size(), static_cast<size_t>(g.expect->slots())) << g.name;
    for (int s = 0; s < g.expect->slots(); ++s) CopyTable(*g.slots[s], g.expect->slot_table(s));
    g.expect->set_step(m.optimizer_step());
  }
  subject.BeginExpected();
  std::vector<std::vector<Range>> weight(groups.size()), slot0(groups.size()),
      slot1(groups.size());
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const Group& g = groups[gi];
    for (size_t j = 0; j < g.touched.size(); ++j) {
      const double gr = grad[gi][j] * scale;
      const double d = (tol.abs + tol.rel * std::abs(grad[gi][j])) * scale + std::abs(gr) * scale_rel;
      Range w, s0, s1;
      for (double x : {gr - d, gr + d, gr}) {
        const CoordUpdate u = g.expect->Compute(g.touched[j], static_cast<float>(before[gi][j]),
                                                static_cast<float>(x), g.regularize);
        w.Add(u.weight);
        s0.Add(u.s0);
        s1.Add(u.s1);
        w.mid = u.weight;
        s0.mid = u.s0;
        s1.mid = u.s1;
      }
      weight[gi].push_back(w);
      slot0[gi].push_back(s0);
      slot1[gi].push_back(s1);
    }
  }

  // 3. The model's step.
  std::vector<StateTable> tables = m.StateTables();
  std::vector<std::vector<float>> was;
  for (const StateTable& t : tables) was.push_back(t.table->values());
  const uint64_t step = m.optimizer_step();
  ASSERT_TRUE(subject.Step()) << "skipped as non-finite";
  EXPECT_EQ(m.optimizer_step(), step + 1);

  // 4. Every touched coordinate against the expectation.
  int all_significant = 0, all_touched = 0;
  std::map<const ParamTable*, std::vector<bool>> may_change;
  auto allow = [&](const ParamTable* t, size_t i) {
    std::vector<bool>& v = may_change[t];
    v.resize(t->size());
    v[i] = true;
  };
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const Group& g = groups[gi];
    int wrong = 0, significant = 0;
    std::ostringstream first;
    for (size_t j = 0; j < g.touched.size(); ++j) {
      const size_t i = g.touched[j];
      allow(g.table, i);
      for (const ParamTable* s : g.slots) allow(s, i);
      significant += std::abs(grad[gi][j]) > 1e-3;
      const double after = g.value(i);
      const Range& w = weight[gi][j];
      bool ok = w.Holds(after, 4 * FLT_EPSILON * (std::abs(w.mid) + std::abs(g.start(i))));
      const Range* slot_range[] = {&slot0[gi][j], &slot1[gi][j]};
      for (size_t s = 0; s < g.slots.size(); ++s) {
        const double v = g.slots[s]->Get(i);
        ok = ok && slot_range[s]->Holds(v, 2 * FLT_EPSILON * std::abs(slot_range[s]->mid));
      }
      if (!ok && wrong++ < 3) {
        first << "\n  [" << i << "] gradient " << grad[gi][j] * scale << ": value " << after
              << ", expected [" << w.lo << ", " << w.hi << "]";
        for (size_t s = 0; s < g.slots.size(); ++s) {
          first << "; slot " << s << " " << g.slots[s]->Get(i) << ", expected ["
                << slot_range[s]->lo << ", " << slot_range[s]->hi << "]";
        }
      }
    }
    EXPECT_EQ(wrong, 0) << g.name << ": " << wrong << " of " << g.touched.size()
                        << " coordinates differ from the optimizer's step on the "
                           "finite-difference gradient, e.g."
                        << first.str();
    // The check is of real gradients, not of zeros.
    EXPECT_GE(significant, 1) << g.name;
    all_significant += significant;
    all_touched += static_cast<int>(g.touched.size());
  }
  EXPECT_GE(all_significant, all_touched / 2);

  // 5. Nothing else moved; the normalized scales are what the standalone raised them to.
  const auto [scales, expect_scales] = subject.Scales();
  for (size_t t = 0; t < tables.size(); ++t) {
    const ParamTable* table = tables[t].table;
    if (table == scales) {
      EXPECT_EQ(table->values(), expect_scales->values()) << tables[t].name;
      continue;
    }
    const std::vector<bool>* allowed = may_change.count(table) ? &may_change[table] : nullptr;
    int moved = 0;
    for (size_t i = 0; i < table->size(); ++i) {
      if ((allowed == nullptr || !(*allowed)[i]) && table->Get(i) != was[t][i]) ++moved;
    }
    EXPECT_EQ(moved, 0) << tables[t].name << ": entries the step should not touch changed";
  }
}

struct Case {
  std::string name;
  ModelConfig config;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

OptimizerConfig OptimizerFor(OptimizerKind kind, bool normalized, ModelKind model) {
  OptimizerConfig c = DefaultOptimizerConfig(kind, model);
  c.normalized = normalized;
  c.l2 = 0.05;
  if (kind == OptimizerKind::kFtrl) {
    c.l1 = 0.01;
    c.learning_rate = 0.5;
  }
  if (kind == OptimizerKind::kAdam) c.learning_rate = 0.01;
  return c;
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  const std::pair<OptimizerKind, const char*> kinds[] = {{OptimizerKind::kSgd, "Sgd"},
                                                         {OptimizerKind::kAdagrad, "Adagrad"},
                                                         {OptimizerKind::kAdam, "Adam"},
                                                         {OptimizerKind::kFtrl, "Ftrl"}};
  for (const char* model : {"LogisticRegression", "LogisticRegressionCrossed", "Fm"}) {
    for (bool normalized : {false, true}) {
      for (const auto& [kind, name] : kinds) {
        ModelConfig c;
        c.kind = std::string(model) == "Fm" ? ModelKind::kFm : ModelKind::kLogisticRegression;
        c.hash_bits = 12;
        c.fm_factors = 3;
        if (std::string(model) == "LogisticRegressionCrossed") {
          c.crosses = {Cross{{"user", "item_id"}}, Cross{{"user", "price"}}};
        }
        c.optimizer = OptimizerFor(kind, normalized, c.kind);
        cases.push_back({absl::StrCat(model, "_", normalized ? "Normalized" : "", name), c});
      }
    }
  }
  for (ModelKind kind : {ModelKind::kDnn, ModelKind::kDeepFm}) {
    for (const auto& [opt, name] : kinds) {
      if (opt == OptimizerKind::kFtrl) continue;  // refused for these kinds
      ModelConfig c = DefaultModelConfig(kind);
      c.hash_bits = 8;
      c.dnn.embedding_dim = 4;
      c.dnn.hidden = {8, 4};
      c.dnn.dropout = 0;  // deterministic
      c.dnn.batch_size = 4;
      c.dnn.clip_norm = 0;
      c.dnn.fields = {"user", "item_id"};
      c.dnn.dense_fields = {{"x", 3}, {"age", 1}};
      if (kind == ModelKind::kDeepFm) c.crosses = {Cross{{"user", "genre"}}};
      c.optimizer = OptimizerFor(opt, false, kind);
      const std::string model = kind == ModelKind::kDnn ? "Dnn" : "DeepFm";
      cases.push_back({absl::StrCat(model, "_", name), c});
      if (opt == OptimizerKind::kAdam) {
        c.dnn.clip_norm = 0.05;
        cases.push_back({absl::StrCat(model, "_AdamClipped"), c});
      }
    }
  }
  return cases;
}

class GradientCheckTest : public testing::TestWithParam<Case> {};

TEST_P(GradientCheckTest, StepIsTheOptimizerOnTheFiniteDifferenceGradient) {
  const ModelConfig& c = GetParam().config;
  ASSERT_TRUE(Validate(c).ok()) << Validate(c);
  const bool batch = UsesDnnConfig(c.kind);
  std::unique_ptr<Subject> subject;
  if (batch) {
    subject = std::make_unique<BatchSubject>(c);
  } else {
    subject = std::make_unique<PerEventSubject>(c);
  }
  for (int n = 0; n < 2; ++n) {
    SCOPED_TRACE(absl::StrCat("check ", n));
    subject->Prepare(n);
    CheckStep(*subject, batch ? kBatch : kPerEvent);
    if (HasFatalFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(EveryModelAndOptimizer, GradientCheckTest, testing::ValuesIn(Cases()),
                         [](const testing::TestParamInfo<Case>& info) { return info.param.name; });

}  // namespace
}  // namespace streamrec::model
