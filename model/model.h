// Model: the trainer's side of a model (weights plus optimizer state). Owned by one
// thread, the updater; thread-compatible. Serving never touches it: it reads the
// immutable Snapshots that Publish returns.
#ifndef STREAMREC_MODEL_MODEL_H_
#define STREAMREC_MODEL_MODEL_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/example.h"
#include "model/model_config.h"
#include "model/param_table.h"
#include "model/snapshot.h"

namespace streamrec::model {

// TrainResult: the prediction made before the update (for progressive validation),
// and whether the update was dropped because it would have made a value non-finite.
struct TrainResult {
  double prediction = 0.5;
  bool skipped_nonfinite = false;
};

// StateTable names one persisted table of a model.
// StateTable names one persisted table of a model, and the least value a valid state
// may hold in it (accumulators of squared gradients are never negative); restores and
// imports reject anything else, since training from it would go non-finite.
struct StateTable {
  std::string name;
  ParamTable* table;
  float min_value = -std::numeric_limits<float>::infinity();
  // published: the table's last publication when nothing changed since (equal to it
  // now), else null: a snapshot capture may share its immutable chunks, not copy them.
  std::shared_ptr<const FrozenTable> published = nullptr;
};

// PublishCost describes the work of one Publish.
struct PublishCost {
  uint64_t chunks_copied = 0;
};

class Model {
 public:
  virtual ~Model() = default;

  // Predict returns the click probability with the current (unpublished) weights.
  virtual double Predict(const FeatureVector& features) const = 0;
  // Train scores `example`, then updates the weights from it (a weight-0 example is
  // scored only). Never leaves a non-finite value in the model.
  virtual TrainResult Train(const Example& example) = 0;
  // HasChanges reports whether anything changed since the last Publish.
  virtual bool HasChanges() const = 0;
  // Publish returns an immutable snapshot of the current weights, sharing unchanged
  // parts with the previous snapshot; cost in proportion to what changed.
  virtual std::shared_ptr<const Snapshot> Publish(uint64_t version, uint64_t events_applied,
                                                  PublishCost* cost) = 0;

  // StateTables returns every table needed to resume training exactly (weights, then
  // optimizer slots), each with a stable name; persistence writes their changed chunks.
  virtual std::vector<StateTable> StateTables() = 0;
  // Optimizer step count (Adam's bias correction), persisted with the tables.
  virtual uint64_t optimizer_step() const = 0;
  virtual void set_optimizer_step(uint64_t step) = 0;
  // ResetPublishBase: the tables were overwritten wholesale (restore, rollback,
  // import); the next Publish copies everything.
  virtual void ResetPublishBase() = 0;

  // pending_events: events trained (scored, and counted) but not yet applied to the
  // tables: a mini-batch model (model/dnn_model.h) applies them when its batch fills.
  // The tables, and so a checkpoint, reflect the events before them; a server that
  // checkpoints at a batch boundary replays them after a restart. 0 for the per-event
  // models.
  virtual uint64_t pending_events() const { return 0; }
  // DiscardPending drops the pending events; called when the tables are overwritten
  // wholesale (restore, rollback, import), whose events they do not follow.
  virtual void DiscardPending() {}
  // FlushPending applies the pending events now, as a batch of their own smaller than a
  // full one: a batch boundary that does not depend on the count of events, which the
  // server records in the event log as a flush marker at a definite sequence number, so
  // every replay of the log cuts the same batch (server/core/updater.h). Returns false
  // when that batch was skipped as non-finite. Nothing pending, or a per-event model: a
  // no-op that returns true.
  virtual bool FlushPending() { return true; }

  // Late predictions. A mini-batch model scores all events of a batch with the same
  // parameters, so it may score them together when the batch is applied (one matrix
  // product per layer instead of one matrix-vector product per event). After
  // DeferPredictions(true) returns true, Train's TrainResult.prediction is NaN while its
  // event is pending, and every Train that completes a batch, and every FlushPending,
  // makes that batch's predictions available, in training order, from BatchPredictions()
  // until the next Train, FlushPending or DiscardPending: exactly (bit for bit) what Train
  // would have returned without deferral. A model that does not defer returns false and
  // keeps answering in Train. Off by default.
  virtual bool DeferPredictions(bool on) { return false; }
  virtual std::span<const double> BatchPredictions() const { return {}; }

  virtual const ModelConfig& config() const = 0;
  virtual uint64_t parameter_count() const = 0;
  virtual uint64_t nonzero_parameters() const = 0;
};

// CreateModel builds an untrained model; InvalidArgument for a bad config.
absl::StatusOr<std::unique_ptr<Model>> CreateModel(const ModelConfig& config);

}  // namespace streamrec::model

#endif  // STREAMREC_MODEL_MODEL_H_
