// DnnModel::ApplyBatch (model/dnn_model.h): forward and backward over the pending
// batch, full or flushed partial (with DeepFM's linear and FM terms), gradient clipping,
// and one all-or-nothing optimizer step.
#include <cmath>

#include "absl/container/flat_hash_map.h"
#include "model/deepfm_terms.h"
#include "model/dense_kernels.h"
#include "model/dnn_model.h"
#include "model/loss.h"

namespace streamrec::model {

void DnnModel::ScorePending() {
  const Eigen::Index begin = static_cast<Eigen::Index>(scored_);
  const Eigen::Index n = static_cast<Eigen::Index>(pending_) - begin;
  if (n <= 0) return;
  // The columns of a Gemm product are the bits MlpScore gives each event alone, and the
  // bias, ReLU and sums below are its elementwise operations: exactly Train's answers.
  const size_t layers = mlp_.layers();
  const Eigen::MatrixXf& w0 = mlp_.w[0];
  float* z0 = first_.col(begin).data();
  Gemm(w0.rows(), n, w0.cols(), w0.data(), w0.rows(), batch_input_.col(begin).data(), 1,
       batch_input_.rows(), z0, first_.rows());
  Eigen::Map<Eigen::MatrixXf> z(z0, w0.rows(), n);
  z.colwise() += mlp_.b[0];
  const float* logits = z0;  // row 0, stride ld
  Eigen::Index logit_stride = first_.rows();
  if (layers > 1) {
    // One scratch matrix per layer: the same shapes every batch, never reallocated.
    score_a_.resize(layers);
    score_a_[0] = z.cwiseMax(0.0f);
    for (size_t l = 1; l < layers; ++l) {
      const Eigen::MatrixXf& w = mlp_.w[l];
      const Eigen::MatrixXf& a = score_a_[l - 1];
      Eigen::MatrixXf& out = score_a_[l];
      out.resize(w.rows(), n);
      // a is a ReLU's output: mostly zeros, skipped (the same bits as Gemm).
      GemmSkipZeros(w.rows(), n, w.cols(), w.data(), w.rows(), a.data(), 1, a.rows(),
                    out.data(), out.rows());
      if (l + 1 < layers) {
        out.array() = (out.array().colwise() + mlp_.b[l].array()).cwiseMax(0.0f);
      } else {
        out.colwise() += mlp_.b[l];
      }
    }
    logits = score_a_[layers - 1].data();
    logit_stride = score_a_[layers - 1].rows();
  }
  for (Eigen::Index e = 0; e < n; ++e) {
    const float logit = logits[e * logit_stride];
    predictions_[begin + e] = ServedScore(logit + wide_[begin + e]);
  }
  scored_ = pending_;
}

bool DnnModel::ApplyBatch() {
  const size_t batch = pending_;
  // Deferred predictions: the batch is scored now, with the layers its events met.
  if (scored_ < batch) ScorePending();
  last_batch_ = batch;
  const size_t layers = dense_.size();
  const uint64_t first_position = optimizer_step() * config_.dnn.batch_size;
  // Every completed batch is one step, applied or skipped: positions stay step x size.
  embedding_opt_.BeginStep();
  linear_opt_.BeginStep();
  for (Dense& d : dense_) {
    d.w_opt.BeginStep();
    d.b_opt.BeginStep();
  }
  act_.a.resize(layers + 1);
  // A full batch trains on batch_input_ itself; a flushed partial one on a copy of its
  // first `batch` columns (the rest hold older batches' events).
  Eigen::MatrixXf* input = &batch_input_;
  if (batch < static_cast<size_t>(batch_input_.cols())) {
    partial_input_ = batch_input_.leftCols(static_cast<Eigen::Index>(batch));
    input = &partial_input_;
  }
  act_.a[0].swap(*input);  // given back below, whatever the outcome
  struct GiveBack {
    Eigen::MatrixXf& a;
    Eigen::MatrixXf& b;
    ~GiveBack() { a.swap(b); }
  } give_back{act_.a[0], *input};
  const float rate = static_cast<float>(config_.dnn.dropout);
  act_.mask.clear();
  if (rate > 0) {
    act_.mask.resize(layers - 1);
    for (size_t l = 0; l + 1 < layers; ++l) {
      act_.mask[l].resize(mlp_.w[l].rows(), batch);
      for (size_t e = 0; e < batch; ++e) {
        DropoutMask(first_position + e, static_cast<uint32_t>(l), rate, act_.mask[l].col(e).data(),
                    act_.mask[l].rows());
      }
    }
  }
  // kOrdered: the first layer as the events' scoring left it (the same bits a batch
  // product gives), for a full batch; a partial one recomputes its columns.
  const DnnKernels kernels = config_.dnn.kernels;
  const bool reuse_first = kernels == DnnKernels::kOrdered && first_fresh_ &&
                           batch == static_cast<size_t>(first_.cols());
  MlpForward(mlp_, act_, kernels, reuse_first ? &first_ : nullptr);
  Eigen::RowVectorXf dlogit(batch);
  double loss = 0;
  for (size_t e = 0; e < batch; ++e) {
    const float z = act_.a[layers](0, e) + wide_[e];
    if (!std::isfinite(z)) return false;
    const double p = Sigmoid(z);
    loss += weights_[e] * LogLoss(p, labels_[e]);
    dlogit[e] = static_cast<float>((p - labels_[e]) * weights_[e] / static_cast<double>(batch));
  }
  if (!std::isfinite(loss)) return false;
  // Only the embedding slots' inputs have parameters below them.
  const Eigen::Index embedded = static_cast<Eigen::Index>(inputs_->dense_offset());
  MlpBackward(mlp_, act_, kernels, dlogit, grad_, embedded > 0 ? &dx_ : nullptr, embedded);
  // DeepFM: the FM term's gradient joins the MLP's on the slots; the linear weights'
  // gradients, per row touched, in first-touch order.
  absl::flat_hash_map<uint64_t, uint32_t> linear_of_row;
  std::vector<uint64_t> linear_rows;
  std::vector<float> linear_grad;
  if (fm_) {
    for (size_t e = 0; e < batch; ++e) {
      if (embedded > 0) {
        AddFmFieldGradient(act_.a[0].col(e).data(), inputs_->slots(), dim_, dlogit[e],
                           dx_.col(e).data());
      }
      for (const EmbeddedFeature& f : events_[e].embedded) {
        auto [it, added] = linear_of_row.try_emplace(f.row, static_cast<uint32_t>(linear_rows.size()));
        if (added) {
          linear_rows.push_back(f.row);
          linear_grad.push_back(0.0f);
        }
        linear_grad[it->second] += dlogit[e] * f.value;
      }
    }
  }

  // Embedding rows the batch touched, in first-touch order, and their gradients.
  absl::flat_hash_map<uint64_t, uint32_t> slot_of_row;
  std::vector<uint64_t> rows;
  std::vector<float> row_grad;
  for (size_t e = 0; e < batch; ++e) {
    const float* dx = dx_.col(e).data();
    for (const EmbeddedFeature& f : events_[e].embedded) {
      auto [it, added] = slot_of_row.try_emplace(f.row, static_cast<uint32_t>(rows.size()));
      if (added) {
        rows.push_back(f.row);
        row_grad.resize(row_grad.size() + dim_, 0.0f);
      }
      float* g = row_grad.data() + size_t{it->second} * dim_;
      const float* in = dx + size_t{f.slot} * dim_;
      for (uint32_t d = 0; d < dim_; ++d) g[d] += f.weight * in[d];
    }
  }
  double norm2 = 0;
  for (float g : row_grad) norm2 += double{g} * g;
  for (float g : linear_grad) norm2 += double{g} * g;
  for (size_t l = 0; l < layers; ++l) {
    norm2 += grad_.w[l].cast<double>().squaredNorm() + grad_.b[l].cast<double>().squaredNorm();
  }
  if (!std::isfinite(norm2)) return false;
  const double norm = std::sqrt(norm2);
  const double clip = config_.dnn.clip_norm;
  const double scale = (clip > 0 && norm > clip) ? clip / norm : 1.0;

  // Propose every update, then apply only if all are finite.
  updates_.clear();
  auto propose = [&](const Optimizer& opt, size_t i, float w, double g, bool regularize) {
    const float gf = static_cast<float>(g * scale);
    const CoordUpdate u = opt.Compute(i, w, gf, regularize);
    if (!std::isfinite(gf) || !u.Finite()) return false;
    updates_.push_back(u);
    return true;
  };
  for (size_t r = 0; r < rows.size(); ++r) {
    for (uint32_t d = 0; d < dim_; ++d) {
      if (!propose(embedding_opt_, rows[r] * dim_ + d, Embedding(rows[r], d),
                   row_grad[r * dim_ + d], true)) {
        return false;
      }
    }
  }
  for (size_t r = 0; r < linear_rows.size(); ++r) {
    const uint64_t row = linear_rows[r];
    if (!propose(linear_opt_, row, linear_.Get(row), linear_grad[r], true)) return false;
  }
  for (size_t l = 0; l < layers; ++l) {
    Dense& d = dense_[l];
    if (!d.w_opt.ComputeDense(mlp_.w[l].data(), grad_.w[l].data(), scale, true, d.w_next.size(),
                              d.w_next.data(), d.w_s0.data(), d.w_s1.data()) ||
        !d.b_opt.ComputeDense(mlp_.b[l].data(), grad_.b[l].data(), scale, false, d.b_next.size(),
                              d.b_next.data(), d.b_s0.data(), d.b_s1.data())) {
      return false;
    }
  }
  // The tables store differences from the start.
  size_t next = 0;
  for (size_t n = rows.size() * dim_; next < n; ++next) {
    CoordUpdate u = updates_[next];
    u.weight -= EmbeddingInit(u.index);
    embedding_opt_.Apply(u, embeddings_);
  }
  for (size_t r = 0; r < linear_rows.size(); ++r, ++next) linear_opt_.Apply(updates_[next], linear_);
  for (size_t l = 0; l < layers; ++l) {
    Dense& d = dense_[l];
    // The stored weight: the proposal less the start, in place.
    Eigen::Map<Eigen::ArrayXf> stored(d.w_next.data(),
                                      static_cast<Eigen::Index>(d.w_next.size()));
    stored -= d.w_init.reshaped().array();
    d.w.SetRange(0, d.w_next.data(), d.w_next.size());
    d.w_opt.ApplyDenseSlots(d.w_s0.data(), d.w_s1.data(), d.w_next.size());
    d.b.SetRange(0, d.b_next.data(), d.b_next.size());
    d.b_opt.ApplyDenseSlots(d.b_s0.data(), d.b_s1.data(), d.b_next.size());
  }
  RefreshLayers();
  return true;
}

}  // namespace streamrec::model
