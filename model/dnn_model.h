// DnnModel: the deep click model (ModelConfig kind kDnn, DnnConfig): hashed embeddings
// pooled per field and dense inputs (model/dnn_inputs.h) feed a multilayer perceptron
// (model/dense_layers.h), input -> [Dense ReLU Dropout] x H -> Dense 1 -> sigmoid, trained
// on the binary cross-entropy by deterministic mini-batches. With one 128-dim dense
// field as the only input (examples/models/dnn_brief.textproto) it is the product
// brief's model: 128 -> 256 ReLU -> Dropout 0.5 -> 128 ReLU -> Dropout 0.5 -> 1 sigmoid,
// Adam lr 0.001.
//
// DeepFM (kind kDeepFm; Guo et al. 2017) is the same class with its wide part on:
//   logit = sum_i w_i x_i + FmFieldTerm(e_0..e_S) + MLP(e_0..e_S, dense)
// where e_f are the input column's slots (the pooled embeddings of the listed fields and
// the other slot, pooled as for the DNN), the FM term is model/deepfm_terms.h (the FM's
// factor of a feature is its embedding row: one shared table, k = embedding_dim), w_i is
// a linear weight per hashed row of every embedded feature (value x_i, not pooled;
// dense_fields enter the MLP only), and w0 is the MLP's output bias. All parts train on
// the same batches with one optimizer step (linear weights lazily, like the embedding
// rows, regularized); the batch's gradient clipping and all-or-nothing rule cover them.
//
// Mini-batches. Train(example) scores the example with the current parameters (that
// score is its TrainResult: progressive validation stays honest; with kOrdered and
// DeferPredictions(true), as the server's updater asks, the batch's events are scored
// together when it is applied, the same bits, read from BatchPredictions()), then
// appends it to the pending batch; the event that fills the batch (batch_size events) runs forward and
// backward on the whole batch (one matrix product per layer, events as columns) and
// applies one optimizer step to the mean over the batch of weight x log loss: the dense
// layers wholesale, the embedding table lazily (only rows the batch touched are read and
// written, with their optimizer state). Batch boundaries depend only on the number of
// events trained (weight-0 events count, and train nothing) and on FlushPending(), never
// on timing: FlushPending() applies the pending events as a partial batch (the mean over
// the events it holds, one optimizer step like a full batch); the server calls it where
// the event log holds a flush marker (a quiet stream, a clean stop), so a replay cuts the
// same batches. The optimizer step counts completed batches, full or partial.
// pending_events() are trained but not applied: the server checkpoints at a boundary and
// replays them after a restart; DiscardPending() drops them when the tables are
// overwritten wholesale.
//
// Dropout masks are drawn from (position, layer) (DropoutMask), the position of the e-th
// event of a batch being step x batch_size + e (step: the optimizer step before the
// batch): the events trained before it while every batch was full, and unique however
// batches were cut. Both are in the checkpoint, so a replay from a mid-stream snapshot
// draws the same.
//
// Arithmetic: config.dnn.kernels (model/model_config.h) picks the training products:
// kEigen (earlier builds' bits, which data dirs of earlier builds keep) or kOrdered
// (model/dense_kernels.h; an event's first-layer pre-activations from its scoring are
// taken over by its batch's forward pass). Training is bit for bit repeatable with
// either; the two differ in the last bits. Serving (DnnSnapshot) uses Eigen for both.
//
// Numerical safety: the batch's gradient is clipped to global L2 norm clip_norm (0:
// off); a batch whose loss, gradient or any updated parameter or optimizer state would
// be non-finite is skipped whole (nothing changes; the step still counts) and the event
// that completed it reports skipped_nonfinite. Logits are clamped (model/loss.h); a NaN
// logit scores 0.5, so no NaN prediction is ever returned.
//
// Persistence: every table is a ParamTable named in StateTables(): "dnn.embeddings",
// "dnn.l<k>.w" (column-major, outputs x inputs) and "dnn.l<k>.b" for layers k = 0..H (H
// the output layer), then the optimizer's slots as "dnn.<slot>.<table>" (Adam:
// "dnn.adam.m.l0.w", "dnn.adam.v.l0.w", ...; Adagrad "dnn.adagrad.n.*"). DeepFM adds
// "deepfm.linear" (2^hash_bits floats, from 0) and its slots "deepfm.<slot>.linear". Weights are
// stored as differences from their deterministic start (DenseInit, EmbeddingInit), so an
// untrained model is all zeros, like the FM's factors. The tables are the source of
// truth: the working copy of the dense layers is rebuilt from them at every batch start
// and by ResetPublishBase/DiscardPending, and Publish reads them, so a model whose tables
// were overwritten (SetChunk + set_optimizer_step at a batch boundary, then DiscardPending
// or ResetPublishBase) serves and continues bit for bit. FTRL is refused for this kind
// (it would overwrite the initialization).
//
// Cost: Train is one forward pass of one event (deferred: a column of the batch's
// scoring products), plus at each boundary about 3x the forward cost of the batch and one optimizer update of every dense parameter (so per
// event: forward + (3 forward + dense parameters / batch_size)). Publish copies the dense
// layers whole when their tables changed since the last one (a batch applied, a
// restore; their floats / 256 chunks) and shares unchanged embedding chunks
// (FrozenTable). Memory: the tables times (1 + optimizer slots).
//
// Thread-compatible: owned by the updater thread. DnnSnapshot is immutable and safe from
// any number of threads.
#ifndef STREAMREC_MODEL_DNN_MODEL_H_
#define STREAMREC_MODEL_DNN_MODEL_H_

#include <memory>
#include <vector>

#include "model/cross.h"
#include "model/dense_layers.h"
#include "model/dnn_inputs.h"
#include "model/frozen_table.h"
#include "model/model.h"
#include "model/optimizer.h"
#include "model/param_table.h"

namespace streamrec::model {

class DnnModel final : public Model {
 public:
  // The config must have passed Validate().
  explicit DnnModel(const ModelConfig& config);

  double Predict(const FeatureVector& features) const override;
  TrainResult Train(const Example& example) override;
  bool HasChanges() const override;
  std::shared_ptr<const Snapshot> Publish(uint64_t version, uint64_t events_applied,
                                          PublishCost* cost) override;
  std::vector<StateTable> StateTables() override;
  uint64_t optimizer_step() const override { return embedding_opt_.step(); }
  void set_optimizer_step(uint64_t step) override;
  void ResetPublishBase() override;
  uint64_t pending_events() const override { return pending_; }
  void DiscardPending() override;
  bool FlushPending() override;
  // Deferred only with kOrdered (whose batch product gives an event's single-column
  // bits); kEigen answers in Train.
  bool DeferPredictions(bool on) override;
  std::span<const double> BatchPredictions() const override {
    return {predictions_.data(), last_batch_};
  }
  const ModelConfig& config() const override { return config_; }
  uint64_t parameter_count() const override;
  // Parameters moved from their start.
  uint64_t nonzero_parameters() const override;

  // For tests: the effective (start + learned) values.
  float Embedding(uint64_t row, uint32_t d) const;
  // For tests: DeepFM's linear weight of a row (0 for a DNN).
  float Linear(uint64_t row) const { return fm_ ? linear_.Get(row) : 0.0f; }
  const Mlp& layers() const { return mlp_; }

 private:
  struct Dense {
    ParamTable w, b;
    Optimizer w_opt, b_opt;
    Eigen::MatrixXf w_init;
    // A batch's proposed weights and optimizer slots (ComputeDense), reused.
    std::vector<float> w_next, w_s0, w_s1, b_next, b_s0, b_s1;
  };
  // Encode routes an event's features and crosses into `out`.
  void Encode(const FeatureVector& features, EncodedEvent& out) const;
  // Input fills column `col` of `x` (zeroed by the caller) from an encoded event.
  void Input(const EncodedEvent& event, Eigen::Ref<Eigen::VectorXf> x) const;
  // Logit of one input column with the current parameters, no dropout, in the
  // config's arithmetic (dnn.kernels). kOrdered: the first layer's pre-activations go to
  // `first` (w[0].rows() floats), `scratch` is reused.
  float Logit(const Eigen::Ref<const Eigen::VectorXf>& x, float* first,
              std::vector<float>& scratch) const;
  // Wide: DeepFM's linear and FM terms of an encoded event and its input column (0 for
  // a DNN).
  float Wide(const EncodedEvent& event, const Eigen::Ref<const Eigen::VectorXf>& x) const;
  // RefreshLayers rebuilds mlp_ (the working copy) from the tables.
  void RefreshLayers();
  // ApplyBatch trains the pending batch; false when it was skipped as non-finite.
  bool ApplyBatch();
  // ScorePending (deferred): scores pending events [scored_, pending_) with the current
  // layers as one batch product per layer, into predictions_ and first_.
  void ScorePending();
  std::shared_ptr<const Mlp> FreezeLayers() const;
  // LayersChanged: a dense table changed since the last Publish.
  bool LayersChanged() const;

  ModelConfig config_;
  std::shared_ptr<const DnnInputs> inputs_;
  std::shared_ptr<const Crosser> crosser_;
  uint32_t dim_;
  ParamTable embeddings_;  // 2^hash_bits x dim_: differences from EmbeddingInit
  Optimizer embedding_opt_;
  std::vector<Dense> dense_;  // differences from DenseInit (biases: from 0)
  bool fm_;                   // DeepFM: the linear and FM terms are on
  ParamTable linear_;         // DeepFM: 2^hash_bits linear weights (empty for a DNN)
  Optimizer linear_opt_;
  Mlp mlp_;                   // start + tables, refreshed from the tables

  // The pending batch: events_[0..pending_).
  uint64_t pending_ = 0;
  std::vector<EncodedEvent> events_;
  std::vector<float> labels_, weights_;
  std::vector<float> wide_;  // DeepFM: each pending event's Wide
  Eigen::MatrixXf batch_input_;  // inputs x batch_size: column e is events_[e]'s input
  Eigen::MatrixXf partial_input_;  // a flushed partial batch's columns of batch_input_
  // kOrdered: column e holds the first layer's pre-activations of events_[e] from its
  // scoring, which the batch's forward pass reuses (the same bits a batch product gives)
  // while first_fresh_: the layers were not rebuilt since the batch started
  // (ResetPublishBase mid-batch rebuilds them).
  Eigen::MatrixXf first_;
  bool first_fresh_ = true;
  // predictions_[e] is events_[e]'s prediction once scored (e < scored_; in Train, or
  // deferred in ScorePending); the last applied batch's are predictions_[0..last_batch_),
  // until the next Train, FlushPending or DiscardPending.
  bool defer_ = false;
  size_t scored_ = 0;
  size_t last_batch_ = 0;
  std::vector<double> predictions_;
  std::vector<Eigen::MatrixXf> score_a_;  // ScorePending's scratch, per layer

  std::shared_ptr<const FrozenTable> last_embeddings_;
  std::shared_ptr<const Mlp> last_layers_;
  std::shared_ptr<const FrozenTable> last_linear_;

  // Scratch reused across events and batches.
  FeatureVector crossed_;
  std::vector<uint32_t> counts_;
  MlpActivations act_;
  Mlp grad_;
  Eigen::MatrixXf dx_;
  std::vector<CoordUpdate> updates_;
  std::vector<float> score_scratch_;
};

class DnnSnapshot final : public Snapshot {
 public:
  // `linear` is DeepFM's linear table, null for a DNN.
  DnnSnapshot(uint64_t version, uint64_t events_applied, std::shared_ptr<const DnnInputs> inputs,
              std::shared_ptr<const FrozenTable> embeddings, std::shared_ptr<const Mlp> layers,
              std::shared_ptr<const Crosser> crosser,
              std::shared_ptr<const FrozenTable> linear = nullptr);

  // The context's pooled embeddings and its share of the first layer (W0 x_context + b0)
  // once; then the candidates as the columns of one matrix product per layer, the first
  // one over only the input columns some candidate touches (its slots, including each
  // slot's context features when a slot has features on both sides, and its dense
  // inputs). Cost: W0 x_context (h0 x inputs) + candidates x (h0 x their columns + the
  // upper layers). DeepFM: the context's linear sum and its slots' share of the FM sums
  // once, then per candidate its own linear sum and the slots it touches. Equal to the
  // trainer's Predict up to float rounding.
  void Score(std::span<const HashedFeature> context, std::span<const FeatureVector> items,
             std::span<double> scores) const override;
  uint64_t parameter_count() const override {
    return embeddings_->size() + layers_->parameters() + (linear_ ? linear_->size() : 0);
  }

 private:
  float Embedding(uint64_t row, uint32_t d) const;

  const std::shared_ptr<const DnnInputs> inputs_;
  const std::shared_ptr<const FrozenTable> embeddings_;
  const std::shared_ptr<const Mlp> layers_;
  const std::shared_ptr<const Crosser> crosser_;
  const std::shared_ptr<const FrozenTable> linear_;
};

}  // namespace streamrec::model

#endif  // STREAMREC_MODEL_DNN_MODEL_H_
