#include "model/dnn_model.h"

#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "model/deepfm_terms.h"
#include "model/loss.h"

namespace streamrec::model {
namespace {

// SlotNames: the persisted names of the optimizer's slots.
std::vector<std::string> SlotNames(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::kSgd: return {};
    case OptimizerKind::kAdagrad: return {"adagrad.n"};
    case OptimizerKind::kAdam: return {"adam.m", "adam.v"};
    case OptimizerKind::kFtrl: return {"ftrl.z", "ftrl.n"};  // refused by Validate
  }
  return {};
}

}  // namespace

DnnModel::DnnModel(const ModelConfig& config)
    : config_(config),
      inputs_(std::make_shared<const DnnInputs>(config)),
      crosser_(std::make_shared<const Crosser>(config.crosses)),
      dim_(config.dnn.embedding_dim),
      embeddings_(size_t{dim_} << config.hash_bits),
      embedding_opt_(config.optimizer, embeddings_.size()),
      fm_(config.kind == ModelKind::kDeepFm),
      linear_(fm_ ? size_t{1} << config.hash_bits : 0),
      linear_opt_(config.optimizer, linear_.size()) {
  const auto shapes = MlpShapes(inputs_->input_dim(), config.dnn.hidden);
  dense_.reserve(shapes.size());
  for (size_t l = 0; l < shapes.size(); ++l) {
    const auto [out, in] = shapes[l];
    dense_.push_back({ParamTable(out * in), ParamTable(out), Optimizer(config.optimizer, out * in),
                      Optimizer(config.optimizer, out), Eigen::MatrixXf(out, in), {}, {}, {}, {}, {}, {}});
    Dense& d = dense_.back();
    for (auto* v : {&d.w_next, &d.w_s0, &d.w_s1}) v->resize(out * in);
    for (auto* v : {&d.b_next, &d.b_s0, &d.b_s1}) v->resize(out);
    float* init = d.w_init.data();
    for (size_t i = 0; i < out * in; ++i) init[i] = DenseInit(static_cast<uint32_t>(l), i, in, out);
  }
  events_.resize(config.dnn.batch_size);
  batch_input_.resize(static_cast<Eigen::Index>(inputs_->input_dim()), config.dnn.batch_size);
  if (config.dnn.kernels == DnnKernels::kOrdered) {
    first_.resize(static_cast<Eigen::Index>(shapes[0].first), config.dnn.batch_size);
  }
  labels_.resize(config.dnn.batch_size);
  weights_.resize(config.dnn.batch_size);
  wide_.resize(config.dnn.batch_size);
  predictions_.resize(config.dnn.batch_size);
  RefreshLayers();
}

float DnnModel::Embedding(uint64_t row, uint32_t d) const {
  const uint64_t i = row * dim_ + d;
  return embeddings_.Get(i) + EmbeddingInit(i);
}

void DnnModel::RefreshLayers() {
  // Deferred: pending events not yet scored are scored with the layers they met.
  if (defer_ && scored_ < pending_) ScorePending();
  first_fresh_ = pending_ == 0;
  mlp_.w.resize(dense_.size());
  mlp_.b.resize(dense_.size());
  for (size_t l = 0; l < dense_.size(); ++l) {
    const Dense& d = dense_[l];
    const auto rows = d.w_init.rows(), cols = d.w_init.cols();
    mlp_.w[l] = d.w_init + Eigen::Map<const Eigen::MatrixXf>(d.w.values().data(), rows, cols);
    mlp_.b[l] = Eigen::Map<const Eigen::VectorXf>(d.b.values().data(), rows);
  }
}

std::shared_ptr<const Mlp> DnnModel::FreezeLayers() const {
  // From the tables, not mlp_, so a snapshot always shows what is persisted.
  auto m = std::make_shared<Mlp>();
  m->w.resize(dense_.size());
  m->b.resize(dense_.size());
  for (size_t l = 0; l < dense_.size(); ++l) {
    const Dense& d = dense_[l];
    const auto rows = d.w_init.rows(), cols = d.w_init.cols();
    m->w[l] = d.w_init + Eigen::Map<const Eigen::MatrixXf>(d.w.values().data(), rows, cols);
    m->b[l] = Eigen::Map<const Eigen::VectorXf>(d.b.values().data(), rows);
  }
  return m;
}

void DnnModel::Encode(const FeatureVector& features, EncodedEvent& out) const {
  out.Clear();
  inputs_->Add(features, out);
}

void DnnModel::Input(const EncodedEvent& event, Eigen::Ref<Eigen::VectorXf> x) const {
  for (const EmbeddedFeature& f : event.embedded) {
    float* slot = x.data() + size_t{f.slot} * dim_;
    for (uint32_t d = 0; d < dim_; ++d) slot[d] += f.weight * Embedding(f.row, d);
  }
  const size_t offset = inputs_->dense_offset();
  for (const auto& [index, value] : event.dense) x[offset + index] += value;
}

float DnnModel::Logit(const Eigen::Ref<const Eigen::VectorXf>& x, float* first,
                      std::vector<float>& scratch) const {
  if (config_.dnn.kernels == DnnKernels::kEigen) return MlpScoreEigen(mlp_, x);
  return MlpScore(mlp_, x.data(), first, scratch);
}

float DnnModel::Wide(const EncodedEvent& event, const Eigen::Ref<const Eigen::VectorXf>& x) const {
  if (!fm_) return 0.0f;
  double linear = 0;
  for (const EmbeddedFeature& f : event.embedded) linear += double{f.value} * linear_.Get(f.row);
  return static_cast<float>(linear + FmFieldTerm(x.data(), inputs_->slots(), dim_));
}

double DnnModel::Predict(const FeatureVector& features) const {
  EncodedEvent event;
  FeatureVector crossed;
  std::vector<uint32_t> counts;
  inputs_->Add(features, event);
  crosser_->Append(features, crossed);
  inputs_->Add(crossed, event);
  inputs_->Finish(event, counts);
  Eigen::VectorXf x = Eigen::VectorXf::Zero(inputs_->input_dim());
  Input(event, x);
  std::vector<float> first(static_cast<size_t>(mlp_.w[0].rows())), scratch;
  return ServedScore(Logit(x, first.data(), scratch) + Wide(event, x));
}

TrainResult DnnModel::Train(const Example& example) {
  // A new batch starts from the tables (which a restore may have overwritten).
  if (pending_ == 0) RefreshLayers();
  EncodedEvent& event = events_[pending_];
  Encode(example.features, event);
  crossed_.clear();
  crosser_->Append(example.features, crossed_);
  inputs_->Add(crossed_, event);
  inputs_->Finish(event, counts_);
  // The parameters stay fixed until the batch is applied, so the input column built to
  // score the event now is the batch's column for it.
  auto x = batch_input_.col(static_cast<Eigen::Index>(pending_));
  x.setZero();
  Input(event, x);
  TrainResult result;
  last_batch_ = 0;
  wide_[pending_] = Wide(event, x);
  labels_[pending_] = example.label;
  weights_[pending_] = example.weight;
  if (defer_) {
    // Scored with its batch (ScorePending); its column's first layer is filled then.
    result.prediction = std::numeric_limits<double>::quiet_NaN();
  } else {
    float* first = first_.size() > 0 ? first_.col(static_cast<Eigen::Index>(pending_)).data()
                                      : nullptr;  // kEigen: not kept
    result.prediction = ServedScore(Logit(x, first, score_scratch_) + wide_[pending_]);
    predictions_[pending_] = result.prediction;
    scored_ = pending_ + 1;
  }
  if (++pending_ == config_.dnn.batch_size) {
    result.skipped_nonfinite = !ApplyBatch();
    pending_ = 0;
    scored_ = 0;
  }
  return result;
}

bool DnnModel::LayersChanged() const {
  for (const Dense& d : dense_) {
    if (d.w.dirty_chunks() > 0 || d.b.dirty_chunks() > 0) return true;
  }
  return false;
}

bool DnnModel::HasChanges() const {
  return embeddings_.dirty_chunks() > 0 || linear_.dirty_chunks() > 0 || LayersChanged();
}

std::shared_ptr<const Snapshot> DnnModel::Publish(uint64_t version, uint64_t events_applied,
                                                  PublishCost* cost) {
  const size_t dirty = embeddings_.dirty_chunks();
  const bool full = last_embeddings_ == nullptr;
  auto e = std::make_shared<const FrozenTable>(embeddings_.Freeze(last_embeddings_.get()));
  size_t copied = full ? e->num_chunks() : dirty;
  // The layers' change marks come from the tables, so a batch and a restore (SetChunk)
  // alike republish them.
  if (last_layers_ == nullptr || LayersChanged()) {
    last_layers_ = FreezeLayers();
    copied += (last_layers_->parameters() + kChunkFloats - 1) / kChunkFloats;
    for (Dense& d : dense_) {
      d.w.ClearChanged();
      d.b.ClearChanged();
    }
  }
  if (fm_) {
    copied += last_linear_ == nullptr ? (linear_.size() + kChunkFloats - 1) / kChunkFloats
                                      : linear_.dirty_chunks();
    last_linear_ = std::make_shared<const FrozenTable>(linear_.Freeze(last_linear_.get()));
  }
  if (cost != nullptr) cost->chunks_copied = copied;
  last_embeddings_ = e;
  return std::make_shared<DnnSnapshot>(version, events_applied, inputs_, std::move(e),
                                       last_layers_, crosser_, last_linear_);
}

std::vector<StateTable> DnnModel::StateTables() {
  std::vector<StateTable> tables = {{"dnn.embeddings", &embeddings_}};
  for (size_t l = 0; l < dense_.size(); ++l) {
    tables.push_back({absl::StrCat("dnn.l", l, ".w"), &dense_[l].w});
    tables.push_back({absl::StrCat("dnn.l", l, ".b"), &dense_[l].b});
  }
  if (fm_) tables.push_back({"deepfm.linear", &linear_});
  const std::vector<std::string> slots = SlotNames(config_.optimizer.kind);
  for (int s = 0; s < embedding_opt_.slots(); ++s) {
    const std::string prefix = absl::StrCat("dnn.", slots[s], ".");
    tables.push_back({prefix + "embeddings", &embedding_opt_.slot_table(s),
                      embedding_opt_.SlotMin(s)});
    for (size_t l = 0; l < dense_.size(); ++l) {
      Dense& d = dense_[l];
      tables.push_back({absl::StrCat(prefix, "l", l, ".w"), &d.w_opt.slot_table(s), d.w_opt.SlotMin(s)});
      tables.push_back({absl::StrCat(prefix, "l", l, ".b"), &d.b_opt.slot_table(s), d.b_opt.SlotMin(s)});
    }
  }
  if (fm_) {
    for (int s = 0; s < linear_opt_.slots(); ++s) {
      tables.push_back({absl::StrCat("deepfm.", slots[s], ".linear"), &linear_opt_.slot_table(s),
                        linear_opt_.SlotMin(s)});
    }
  }
  return tables;
}

void DnnModel::set_optimizer_step(uint64_t step) {
  embedding_opt_.set_step(step);
  linear_opt_.set_step(step);
  for (Dense& d : dense_) {
    d.w_opt.set_step(step);
    d.b_opt.set_step(step);
  }
}

void DnnModel::ResetPublishBase() {
  last_embeddings_.reset();
  last_layers_.reset();
  last_linear_.reset();
  RefreshLayers();
}

void DnnModel::DiscardPending() {
  pending_ = 0;
  scored_ = 0;
  last_batch_ = 0;
  RefreshLayers();
}

bool DnnModel::FlushPending() {
  last_batch_ = 0;
  if (pending_ == 0) return true;
  const bool applied = ApplyBatch();
  pending_ = 0;
  scored_ = 0;
  return applied;
}

bool DnnModel::DeferPredictions(bool on) {
  if (config_.dnn.kernels != DnnKernels::kOrdered) return false;
  // Turning it off: the pending events not yet scored are scored now (the same layers).
  if (!on && scored_ < pending_) ScorePending();
  defer_ = on;
  return on;
}

uint64_t DnnModel::parameter_count() const {
  uint64_t n = embeddings_.size() + linear_.size();
  for (const Dense& d : dense_) n += d.w.size() + d.b.size();
  return n;
}

uint64_t DnnModel::nonzero_parameters() const {
  uint64_t n = embeddings_.nonzero() + linear_.nonzero();
  for (const Dense& d : dense_) n += d.w.nonzero() + d.b.nonzero();
  return n;
}

}  // namespace streamrec::model
