#include "model/fm_model.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "model/hash.h"
#include "model/loss.h"
#include "model/rows.h"

namespace streamrec::model {

float FactorInit(uint64_t index) {
  // SplitMix64 of the index: uniform in [-a, a] with a = 0.01 * sqrt(3) (std 0.01).
  uint64_t z = index + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  const double u = static_cast<double>(z >> 11) * 0x1.0p-53;  // [0, 1)
  return static_cast<float>((2 * u - 1) * 0.017320508075688773);
}

OptimizerConfig FactorOptimizerConfig(OptimizerConfig c) {
  if (c.normalized) c.learning_rate *= kFactorRateShare;
  return c;
}

FmModel::FmModel(const ModelConfig& config)
    : config_(config),
      crosser_(std::make_shared<const Crosser>(config.crosses)),
      rows_(size_t{1} << config.hash_bits),
      k_(config.fm_factors),
      weights_(rows_ + 1),
      factors_(rows_ * k_),
      weight_opt_(config.optimizer, rows_ + 1),
      factor_opt_(FactorOptimizerConfig(config.optimizer), rows_ * k_, &weight_opt_, k_) {}

float FmModel::Divisor(size_t row) const {
  if (!weight_opt_.config().normalized) return 1.0f;
  const float s = weight_opt_.scale(row);
  return s > 0 ? s : 1.0f;
}

float FmModel::Factor(size_t row, uint32_t f) const {
  const size_t i = row * k_ + f;
  return (factors_.Get(i) + FactorInit(i)) / Divisor(row);
}

void FmModel::Rows(const FeatureVector& features, FeatureVector& crossed,
                   std::vector<Coord>& out) const {
  GatherRows(features, *crosser_, config_.hash_bits, crossed, out);
}

double FmModel::Logit(const std::vector<Coord>& coords, std::vector<double>& sums) const {
  sums.assign(k_, 0.0);
  double linear = weights_.Get(rows_);
  double squares = 0;
  for (const Coord& c : coords) {
    linear += double{weights_.Get(c.row)} * c.value;
    for (uint32_t f = 0; f < k_; ++f) {
      const double vx = double{Factor(c.row, f)} * c.value;
      sums[f] += vx;
      squares += vx * vx;
    }
  }
  double pairs = 0;
  for (double s : sums) pairs += s * s;
  return linear + 0.5 * (pairs - squares);
}

double FmModel::Predict(const FeatureVector& features) const {
  std::vector<Coord> coords;
  FeatureVector crossed;
  std::vector<double> sums;
  Rows(features, crossed, coords);
  return Sigmoid(Logit(coords, sums));
}

TrainResult FmModel::Train(const Example& example) {
  Rows(example.features, crossed_, coords_);
  // Every row's weight, factors and their optimizer slots at once, so that the cache
  // misses overlap (a hint: changes nothing computed).
  for (const Coord& c : coords_) {
    weights_.Prefetch(c.row);
    weight_opt_.Prefetch(c.row);
    for (uint32_t f = 0; f < k_; f += 16) {  // a cache line holds 16 floats
      factors_.Prefetch(size_t{c.row} * k_ + f);
      factor_opt_.Prefetch(size_t{c.row} * k_ + f);
    }
  }
  // Normalized: the scales rise to this event's values before it is scored (they depend
  // on its features only, not its label), so a new large value never meets factors
  // sized for smaller ones.
  // Both optimizers step on the same events (a skipped one included), so the factors'
  // step always equals the weights' step, the one that is persisted and restored.
  if (example.weight != 0.0f) {
    weight_opt_.BeginExample(coords_, rows_);
    factor_opt_.Follow();
  }
  TrainResult result;
  result.prediction = Sigmoid(Logit(coords_, sums_));
  if (std::isnan(result.prediction)) {  // inf - inf in the sums: no score, no update
    result.prediction = 0.5;
    result.skipped_nonfinite = true;
    return result;
  }
  if (example.weight == 0.0f) return result;
  const double g = (result.prediction - example.label) * example.weight;
  updates_.clear();
  factor_updates_.clear();
  auto propose = [&](Optimizer& opt, size_t i, float w, double grad, bool regularize,
                     std::vector<CoordUpdate>& into) {
    const float gf = static_cast<float>(grad);
    CoordUpdate u = opt.Compute(i, w, gf, regularize);
    if (!std::isfinite(gf) || !u.Finite()) return false;
    into.push_back(u);
    return true;
  };
  bool finite = propose(weight_opt_, rows_, weights_.Get(rows_), g, false, updates_);
  for (const Coord& c : coords_) {
    finite = finite && propose(weight_opt_, c.row, weights_.Get(c.row), g * c.value, true,
                               updates_);
    for (uint32_t f = 0; f < k_ && finite; ++f) {
      const float v = Factor(c.row, f);
      const double grad = g * c.value * (sums_[f] - double{v} * c.value);
      finite = propose(factor_opt_, c.row * k_ + f, v, grad, true, factor_updates_);
    }
    if (!finite) break;
  }
  if (!finite) {
    result.skipped_nonfinite = true;
    return result;
  }
  for (const CoordUpdate& u : updates_) weight_opt_.Apply(u, weights_);
  for (CoordUpdate u : factor_updates_) {
    // The table stores the difference from the start, in normalized units.
    u.weight = u.weight * Divisor(u.index / k_) - FactorInit(u.index);
    factor_opt_.Apply(u, factors_);
  }
  return result;
}

std::vector<StateTable> FmModel::StateTables() {
  std::vector<StateTable> tables = {{"weights", &weights_}, {"factors", &factors_}};
  for (int s = 0; s < weight_opt_.slots(); ++s) {
    tables.push_back({"optimizer" + std::to_string(s), &weight_opt_.slot_table(s),
                      weight_opt_.SlotMin(s)});
  }
  for (int s = 0; s < factor_opt_.slots(); ++s) {
    tables.push_back({"factor_optimizer" + std::to_string(s), &factor_opt_.slot_table(s),
                      factor_opt_.SlotMin(s)});
  }
  if (weight_opt_.config().normalized) {
    tables.push_back({"optimizer_scale", &weight_opt_.scale_table(), 0.0f});
  }
  return tables;
}

std::shared_ptr<const Snapshot> FmModel::Publish(uint64_t version, uint64_t events_applied,
                                                 PublishCost* cost) {
  const size_t dirty = weights_.dirty_chunks() + factors_.dirty_chunks();
  const bool full = last_weights_ == nullptr;
  auto w = std::make_shared<const FrozenTable>(weights_.Freeze(last_weights_.get()));
  auto v = std::make_shared<const FrozenTable>(factors_.Freeze(last_factors_.get()));
  std::shared_ptr<const FrozenTable> scales;
  size_t scale_chunks = 0;
  if (weight_opt_.config().normalized) {
    ParamTable& t = weight_opt_.scale_table();
    scale_chunks = last_scales_ ? t.dirty_chunks() : t.num_chunks();
    scales = std::make_shared<const FrozenTable>(t.Freeze(last_scales_.get()));
    last_scales_ = scales;
  }
  if (cost != nullptr) {
    cost->chunks_copied = (full ? w->num_chunks() + v->num_chunks() : dirty) + scale_chunks;
  }
  last_weights_ = w;
  last_factors_ = v;
  return std::make_shared<FmSnapshot>(version, events_applied, config_.hash_bits, k_,
                                      std::move(w), std::move(v), std::move(scales),
                                      crosser_);
}

FmSnapshot::FmSnapshot(uint64_t version, uint64_t events_applied, uint32_t hash_bits,
                       uint32_t k, std::shared_ptr<const FrozenTable> weights,
                       std::shared_ptr<const FrozenTable> factors,
                       std::shared_ptr<const FrozenTable> scales,
                       std::shared_ptr<const Crosser> crosser)
    : Snapshot(version, events_applied),
      hash_bits_(hash_bits),
      k_(k),
      weights_(std::move(weights)),
      factors_(std::move(factors)),
      scales_(std::move(scales)),
      crosser_(std::move(crosser)) {}

struct FmSnapshot::Sums {
  double linear = 0;
  double squares = 0;
  std::vector<double> factors;
};

void FmSnapshot::Add(std::span<const HashedFeature> features, Sums& sums) const {
  for (const HashedFeature& f : features) {
    if (f.value == 0.0f) continue;
    const uint64_t row = RowOf(f.hash, hash_bits_);
    sums.linear += double{weights_->Get(row)} * f.value;
    float divisor = 1.0f;
    if (scales_ != nullptr && scales_->Get(row) > 0) divisor = scales_->Get(row);
    for (uint32_t j = 0; j < k_; ++j) {
      const uint64_t i = row * k_ + j;
      const double vx = double{(factors_->Get(i) + FactorInit(i)) / divisor} * f.value;
      sums.factors[j] += vx;
      sums.squares += vx * vx;
    }
  }
}

void FmSnapshot::Score(std::span<const HashedFeature> context,
                       std::span<const FeatureVector> items, std::span<double> scores) const {
  Sums shared;
  shared.factors.assign(k_, 0.0);
  shared.linear = weights_->Get(weights_->size() - 1);
  Add(context, shared);
  FeatureVector crossed;
  Sums s;  // per candidate; assigned, not rebuilt, so its factor sums reuse one buffer
  for (size_t i = 0; i < items.size(); ++i) {
    s = shared;
    Add(items[i], s);
    crossed.clear();
    crosser_->Append(context, items[i], crossed);  // bounded by the crossing budget
    Add(crossed, s);
    double pairs = 0;
    for (double x : s.factors) pairs += x * x;
    scores[i] = ServedScore(s.linear + 0.5 * (pairs - s.squares));
  }
}

}  // namespace streamrec::model
