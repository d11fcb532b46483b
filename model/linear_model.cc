#include "model/linear_model.h"

#include <limits>

#include <algorithm>
#include <cmath>
#include <string>

#include "model/hash.h"
#include "model/loss.h"
#include "model/rows.h"

namespace streamrec::model {

LinearModel::LinearModel(const ModelConfig& config)
    : config_(config),
      crosser_(std::make_shared<const Crosser>(config.crosses)),
      weights_((size_t{1} << config.hash_bits) + 1),
      optimizer_(config.optimizer, (size_t{1} << config.hash_bits) + 1) {}

void LinearModel::Rows(const FeatureVector& features, FeatureVector& crossed,
                       std::vector<Coord>& out) const {
  GatherRows(features, *crosser_, config_.hash_bits, crossed, out);
  out.push_back({bias_row(), 1.0f});
}

double LinearModel::Logit(const std::vector<Coord>& coords) const {
  double logit = 0;
  for (const Coord& c : coords) logit += double{weights_.Get(c.row)} * c.value;
  return logit;
}

double LinearModel::Predict(const FeatureVector& features) const {
  std::vector<Coord> coords;
  FeatureVector crossed;
  Rows(features, crossed, coords);
  return Sigmoid(Logit(coords));
}

TrainResult LinearModel::Train(const Example& example) {
  Rows(example.features, crossed_, coords_);
  // The rows are scattered over tables larger than the caches: ask for every weight and
  // optimizer slot at once, so the misses overlap instead of stalling one by one.
  for (const Coord& c : coords_) {
    weights_.Prefetch(c.row);
    optimizer_.Prefetch(c.row);
  }
  TrainResult result;
  result.prediction = Sigmoid(Logit(coords_));
  if (std::isnan(result.prediction)) {  // inf - inf in the sum: no score, no update
    result.prediction = 0.5;
    result.skipped_nonfinite = true;
    return result;
  }
  if (example.weight == 0.0f) return result;
  const double scale = (result.prediction - example.label) * example.weight;
  optimizer_.BeginExample(coords_);
  updates_.clear();
  for (const Coord& c : coords_) {
    const float g = static_cast<float>(scale * c.value);
    CoordUpdate u = optimizer_.Compute(c.row, weights_.Get(c.row), g, c.row != bias_row());
    if (!std::isfinite(g) || !u.Finite()) {
      result.skipped_nonfinite = true;
      return result;
    }
    updates_.push_back(u);
  }
  for (const CoordUpdate& u : updates_) optimizer_.Apply(u, weights_);
  return result;
}

std::vector<StateTable> LinearModel::StateTables() {
  std::vector<StateTable> tables = {
      {"weights", &weights_, -std::numeric_limits<float>::infinity(),
       HasChanges() ? nullptr : last_frozen_}};
  for (int s = 0; s < optimizer_.slots(); ++s) {
    tables.push_back({"optimizer" + std::to_string(s), &optimizer_.slot_table(s),
                      optimizer_.SlotMin(s)});
  }
  if (optimizer_.config().normalized) {
    tables.push_back({"optimizer_scale", &optimizer_.scale_table(), 0.0f});
  }
  return tables;
}

std::shared_ptr<const Snapshot> LinearModel::Publish(uint64_t version,
                                                     uint64_t events_applied,
                                                     PublishCost* cost) {
  const size_t dirty = weights_.dirty_chunks();
  auto frozen = std::make_shared<const FrozenTable>(weights_.Freeze(last_frozen_.get()));
  if (cost != nullptr) {
    cost->chunks_copied = last_frozen_ ? dirty : frozen->num_chunks();
  }
  last_frozen_ = frozen;
  return std::make_shared<LinearSnapshot>(version, events_applied, config_.hash_bits,
                                          std::move(frozen), crosser_);
}

LinearSnapshot::LinearSnapshot(uint64_t version, uint64_t events_applied,
                               uint32_t hash_bits, std::shared_ptr<const FrozenTable> weights,
                               std::shared_ptr<const Crosser> crosser)
    : Snapshot(version, events_applied),
      hash_bits_(hash_bits),
      weights_(std::move(weights)),
      crosser_(std::move(crosser)) {}

double LinearSnapshot::Sum(std::span<const HashedFeature> features) const {
  double sum = 0;
  for (const HashedFeature& f : features) {
    sum += double{weights_->Get(RowOf(f.hash, hash_bits_))} * f.value;
  }
  return sum;
}

void LinearSnapshot::Score(std::span<const HashedFeature> context,
                           std::span<const FeatureVector> items, std::span<double> scores) const {
  double shared = Sum(context) + weights_->Get(weights_->size() - 1);  // once
  if (crosser_->empty()) {
    for (size_t i = 0; i < items.size(); ++i) scores[i] = ServedScore(shared + Sum(items[i]));
    return;
  }
  thread_local FeatureVector crossed;
  for (size_t i = 0; i < items.size(); ++i) {
    crossed.clear();
    crosser_->Append(context, items[i], crossed);  // bounded by the crossing budget
    scores[i] = ServedScore(shared + Sum(items[i]) + Sum(crossed));
  }
}

}  // namespace streamrec::model
