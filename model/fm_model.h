// FmModel: a second-order factorization machine (Rendle 2010) over hashed features and
// their crosses, trained per event with the per-coordinate optimizer:
//   logit = w0 + sum_i w_i x_i + 1/2 sum_f [(sum_i v_if x_i)^2 - sum_i v_if^2 x_i^2]
// with k factors per row (ModelConfig::fm_factors). Scoring and the update cost O(k n)
// for n features; only the rows an event touches are read and written (their optimizer
// state too), so publication and persistence follow what changed.
//
// Factors start from a small deterministic value per (row, factor) (FactorInit: a hash of
// the index, uniform with standard deviation 0.01), and the factor table stores each
// factor's difference from it, so an untrained table is all zeros: snapshot 0 and the
// chunks never written need no storage, and a restore or a replay from any snapshot gives
// the same factors bit for bit.
//
// Normalized (optimizer.normalized, the default): the linear weights follow the
// normalized rule of model/optimizer.h, and so do the factors, each with its row's scale
// s (the largest |x| the row has seen) and the event's step; a factor is stored in
// normalized units, v = (FactorInit + stored) / s (s taken as 1 for a row never trained),
// so a count feature of 10,000 starts with interactions no larger than a category's.
// The snapshot carries the scales for that division. Normalized factors learn at
// kFactorRateShare times the weights' rate: with 40 fields per event an FM has 780
// pairs, and the factors' full rate overshoots (bench/default_quality: at 0.3 the
// default alpha 1 is the best of the grid on every quality stream, and the FM beats
// logistic regression on each).
//
// Thread-compatible: owned by the updater thread. FmSnapshot is immutable and safe from
// any number of threads.
#ifndef STREAMREC_MODEL_FM_MODEL_H_
#define STREAMREC_MODEL_FM_MODEL_H_

#include <memory>
#include <vector>

#include "model/cross.h"
#include "model/frozen_table.h"
#include "model/model.h"
#include "model/optimizer.h"
#include "model/param_table.h"
#include "model/rows.h"

namespace streamrec::model {

// FactorInit: the starting value of factor `index` (row * k + f).
float FactorInit(uint64_t index);

inline constexpr double kFactorRateShare = 0.3;
// FactorOptimizerConfig: the factors' optimizer settings for the model's `optimizer`.
OptimizerConfig FactorOptimizerConfig(OptimizerConfig optimizer);

class FmModel final : public Model {
 public:
  // The config must have passed Validate().
  explicit FmModel(const ModelConfig& config);

  double Predict(const FeatureVector& features) const override;
  TrainResult Train(const Example& example) override;
  bool HasChanges() const override {
    return weights_.dirty_chunks() > 0 || factors_.dirty_chunks() > 0 ||
           weight_opt_.scale_dirty_chunks() > 0;
  }
  std::shared_ptr<const Snapshot> Publish(uint64_t version, uint64_t events_applied,
                                          PublishCost* cost) override;
  std::vector<StateTable> StateTables() override;
  uint64_t optimizer_step() const override { return weight_opt_.step(); }
  void set_optimizer_step(uint64_t step) override {
    weight_opt_.set_step(step);
    factor_opt_.set_step(step);
  }
  void ResetPublishBase() override {
    last_weights_.reset();
    last_factors_.reset();
    last_scales_.reset();
  }
  const ModelConfig& config() const override { return config_; }
  uint64_t parameter_count() const override { return weights_.size() + factors_.size(); }
  // Non-zero weights, and factors moved from their start.
  uint64_t nonzero_parameters() const override {
    return weights_.nonzero() + factors_.nonzero();
  }

  // For tests: the weight of a row (bias: rows()), and factor f of a row.
  float Weight(size_t row) const { return weights_.Get(row); }
  float Factor(size_t row, uint32_t f) const;
  size_t rows() const { return rows_; }

 private:
  using Coord = RowValue;
  // Rows: the event's features and crosses as sorted rows with merged values (no bias).
  void Rows(const FeatureVector& features, FeatureVector& crossed,
            std::vector<Coord>& out) const;
  // Logit of `coords`; `sums` receives sum_i v_if x_i per factor.
  double Logit(const std::vector<Coord>& coords, std::vector<double>& sums) const;
  // Divisor: what a row's stored factors are divided by (its scale when normalized).
  float Divisor(size_t row) const;

  ModelConfig config_;
  std::shared_ptr<const Crosser> crosser_;
  size_t rows_;
  uint32_t k_;
  ParamTable weights_;  // rows_ + 1 (the last is the bias)
  ParamTable factors_;  // rows_ * k_: differences from FactorInit
  Optimizer weight_opt_;
  Optimizer factor_opt_;
  std::shared_ptr<const FrozenTable> last_weights_, last_factors_, last_scales_;
  // Scratch reused across events.
  FeatureVector crossed_;
  std::vector<Coord> coords_;
  std::vector<double> sums_;
  std::vector<CoordUpdate> updates_, factor_updates_;
};

class FmSnapshot final : public Snapshot {
 public:
  FmSnapshot(uint64_t version, uint64_t events_applied, uint32_t hash_bits, uint32_t k,
             std::shared_ptr<const FrozenTable> weights,
             std::shared_ptr<const FrozenTable> factors,
             std::shared_ptr<const FrozenTable> scales,  // null: not normalized
             std::shared_ptr<const Crosser> crosser);

  // The context's linear sum and factor sums once; each candidate adds its own features
  // and the event's crosses (model/cross.h: bounded per event). Equal to the trainer's score up to rounding, and up
  // to hash collisions between the context's and the item's rows (the trainer merges a
  // row's values first).
  void Score(std::span<const HashedFeature> context, std::span<const FeatureVector> items,
             std::span<double> scores) const override;
  uint64_t parameter_count() const override { return weights_->size() + factors_->size(); }

 private:
  struct Sums;
  void Add(std::span<const HashedFeature> features, Sums& sums) const;

  const uint32_t hash_bits_;
  const uint32_t k_;
  const std::shared_ptr<const FrozenTable> weights_, factors_, scales_;
  const std::shared_ptr<const Crosser> crosser_;
};

}  // namespace streamrec::model

#endif  // STREAMREC_MODEL_FM_MODEL_H_
