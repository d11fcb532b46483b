// LinearModel: logistic regression over hashed features, trained per example with a
// per-coordinate optimizer. Weights live in a ParamTable of 2^hash_bits + 1 floats (the
// last one is the bias); optimizer state stays here and is never published.
// Thread-compatible: owned by the updater thread.
#ifndef STREAMREC_MODEL_LINEAR_MODEL_H_
#define STREAMREC_MODEL_LINEAR_MODEL_H_

#include <memory>
#include <vector>

#include "model/cross.h"
#include "model/frozen_table.h"
#include "model/model.h"
#include "model/optimizer.h"
#include "model/param_table.h"
#include "model/rows.h"

namespace streamrec::model {

class LinearModel final : public Model {
 public:
  // The config must have passed Validate().
  explicit LinearModel(const ModelConfig& config);

  double Predict(const FeatureVector& features) const override;
  TrainResult Train(const Example& example) override;
  bool HasChanges() const override { return weights_.dirty_chunks() > 0; }
  std::shared_ptr<const Snapshot> Publish(uint64_t version, uint64_t events_applied,
                                          PublishCost* cost) override;

  std::vector<StateTable> StateTables() override;
  uint64_t optimizer_step() const override { return optimizer_.step(); }
  void set_optimizer_step(uint64_t step) override { optimizer_.set_step(step); }
  void ResetPublishBase() override { last_frozen_.reset(); }

  const ModelConfig& config() const override { return config_; }
  uint64_t parameter_count() const override { return weights_.size(); }
  uint64_t nonzero_parameters() const override { return weights_.nonzero(); }

  // Weight returns the weight of row (bias: bias_row()); for tests and persistence.
  float Weight(size_t row) const { return weights_.Get(row); }
  size_t bias_row() const { return weights_.size() - 1; }
  const Optimizer& optimizer() const { return optimizer_; }

 private:
  using Coord = RowValue;
  // Rows gathers the example's features and their crosses as sorted, merged rows plus
  // the bias; `crossed` is scratch space.
  void Rows(const FeatureVector& features, FeatureVector& crossed,
            std::vector<Coord>& out) const;
  double Logit(const std::vector<Coord>& coords) const;

  ModelConfig config_;
  std::shared_ptr<const Crosser> crosser_;  // shared with the snapshots
  ParamTable weights_;
  Optimizer optimizer_;
  std::shared_ptr<const FrozenTable> last_frozen_;
  // Scratch buffers reused across examples.
  std::vector<Coord> coords_;
  std::vector<CoordUpdate> updates_;
  FeatureVector crossed_;
};

// LinearSnapshot: immutable weights of a LinearModel.
class LinearSnapshot final : public Snapshot {
 public:
  LinearSnapshot(uint64_t version, uint64_t events_applied, uint32_t hash_bits,
                 std::shared_ptr<const FrozenTable> weights,
                 std::shared_ptr<const Crosser> crosser);

  void Score(std::span<const HashedFeature> context, std::span<const FeatureVector> items,
             std::span<double> scores) const override;
  uint64_t parameter_count() const override { return weights_->size(); }
  const FrozenTable& weights() const { return *weights_; }

 private:
  double Sum(std::span<const HashedFeature> features) const;

  const uint32_t hash_bits_;
  const std::shared_ptr<const FrozenTable> weights_;
  const std::shared_ptr<const Crosser> crosser_;
};

}  // namespace streamrec::model

#endif  // STREAMREC_MODEL_LINEAR_MODEL_H_
