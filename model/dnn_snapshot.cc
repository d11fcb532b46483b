// DnnSnapshot (model/dnn_model.h): batched scoring of one context and its candidates
// (DeepFM's linear and FM terms too).
#include <algorithm>

#include "model/deepfm_terms.h"
#include "model/dnn_model.h"
#include "model/loss.h"

namespace streamrec::model {

DnnSnapshot::DnnSnapshot(uint64_t version, uint64_t events_applied,
                         std::shared_ptr<const DnnInputs> inputs,
                         std::shared_ptr<const FrozenTable> embeddings,
                         std::shared_ptr<const Mlp> layers, std::shared_ptr<const Crosser> crosser,
                         std::shared_ptr<const FrozenTable> linear)
    : Snapshot(version, events_applied),
      inputs_(std::move(inputs)),
      embeddings_(std::move(embeddings)),
      layers_(std::move(layers)),
      crosser_(std::move(crosser)),
      linear_(std::move(linear)) {}

float DnnSnapshot::Embedding(uint64_t row, uint32_t d) const {
  const uint64_t i = row * inputs_->embedding_dim() + d;
  return embeddings_->Get(i) + EmbeddingInit(i);
}

void DnnSnapshot::Score(std::span<const HashedFeature> context,
                        std::span<const FeatureVector> items, std::span<double> scores) const {
  const size_t n = items.size();
  if (n == 0) return;
  const DnnInputs& in = *inputs_;
  const uint32_t dim = in.embedding_dim();
  const uint32_t slots = in.slots();
  const Mlp& mlp = *layers_;

  // Route every candidate's features (its own and the event's crosses); note which slots
  // and dense inputs any candidate touches: those are computed per candidate.
  EncodedEvent shared;
  in.Add(context, shared);
  std::vector<EncodedEvent> own(n);
  FeatureVector crossed;
  std::vector<char> touched(slots, 0);
  std::vector<uint32_t> dense_cols;
  for (size_t i = 0; i < n; ++i) {
    in.Add(items[i], own[i]);
    crossed.clear();
    crosser_->Append(context, items[i], crossed);  // bounded by the crossing budget
    in.Add(crossed, own[i]);
    for (const EmbeddedFeature& f : own[i].embedded) touched[f.slot] = 1;
    for (const auto& [index, value] : own[i].dense) dense_cols.push_back(index);
  }
  std::sort(dense_cols.begin(), dense_cols.end());
  dense_cols.erase(std::unique(dense_cols.begin(), dense_cols.end()), dense_cols.end());
  std::vector<uint32_t> cols;        // the first layer's columns computed per candidate
  std::vector<int32_t> slot_pos(slots, -1);
  for (uint32_t s = 0; s < slots; ++s) {
    if (!touched[s]) continue;
    slot_pos[s] = static_cast<int32_t>(cols.size());
    for (uint32_t d = 0; d < dim; ++d) cols.push_back(s * dim + d);
  }
  const size_t dense_start = cols.size();
  for (uint32_t index : dense_cols) cols.push_back(static_cast<uint32_t>(in.dense_offset() + index));

  // The context's slot sums; its share of the first layer for the slots no candidate
  // touches and for its dense inputs.
  std::vector<float> context_sum(size_t{slots} * dim, 0.0f);
  std::vector<uint32_t> context_count(slots, 0);
  for (const EmbeddedFeature& f : shared.embedded) {
    ++context_count[f.slot];
    float* sum = context_sum.data() + size_t{f.slot} * dim;
    for (uint32_t d = 0; d < dim; ++d) sum[d] += f.value * Embedding(f.row, d);
  }
  Eigen::VectorXf x = Eigen::VectorXf::Zero(in.input_dim());
  for (uint32_t s = 0; s < slots; ++s) {
    if (touched[s] || context_count[s] == 0) continue;
    const float factor = in.PoolingFactor(s, context_count[s]);
    for (uint32_t d = 0; d < dim; ++d) x[s * dim + d] = context_sum[s * dim + d] * factor;
  }
  for (const auto& [index, value] : shared.dense) x[in.dense_offset() + index] += value;
  const Eigen::VectorXf h = mlp.w[0] * x + mlp.b[0];
  // DeepFM: the context's linear sum and the FM sums of the slots no candidate touches.
  auto linear_sum = [&](const EncodedEvent& event) {
    double sum = 0;
    for (const EmbeddedFeature& f : event.embedded) sum += double{f.value} * linear_->Get(f.row);
    return sum;
  };
  FmSums context_fm;
  double context_linear = 0;
  if (linear_ != nullptr) {
    context_linear = linear_sum(shared);
    for (uint32_t s = 0; s < slots; ++s) {
      if (!touched[s]) context_fm.Add(x.data() + size_t{s} * dim, dim);
    }
  }

  // The candidates' columns: touched slots pooled over context and candidate features.
  Eigen::MatrixXf xi = Eigen::MatrixXf::Zero(static_cast<Eigen::Index>(cols.size()), n);
  std::vector<float> sum(size_t{slots} * dim);
  std::vector<uint32_t> count(slots);
  for (size_t i = 0; i < n; ++i) {
    for (uint32_t s = 0; s < slots; ++s) {
      if (!touched[s]) continue;
      std::copy_n(context_sum.begin() + size_t{s} * dim, dim, sum.begin() + size_t{s} * dim);
      count[s] = context_count[s];
    }
    for (const EmbeddedFeature& f : own[i].embedded) {
      ++count[f.slot];
      float* out = sum.data() + size_t{f.slot} * dim;
      for (uint32_t d = 0; d < dim; ++d) out[d] += f.value * Embedding(f.row, d);
    }
    for (uint32_t s = 0; s < slots; ++s) {
      if (!touched[s] || count[s] == 0) continue;
      const float factor = in.PoolingFactor(s, count[s]);
      for (uint32_t d = 0; d < dim; ++d) xi(slot_pos[s] + d, i) = sum[s * dim + d] * factor;
    }
    for (const auto& [index, value] : own[i].dense) {
      const auto at = std::lower_bound(dense_cols.begin(), dense_cols.end(), index);
      xi(static_cast<Eigen::Index>(dense_start + (at - dense_cols.begin())), i) += value;
    }
  }
  Eigen::MatrixXf w0(mlp.w[0].rows(), static_cast<Eigen::Index>(cols.size()));
  for (size_t k = 0; k < cols.size(); ++k) w0.col(k) = mlp.w[0].col(cols[k]);
  Eigen::MatrixXf z0 = w0 * xi;
  z0.colwise() += h;
  const Eigen::RowVectorXf logits = MlpLogitsFromFirst(mlp, z0);
  if (linear_ == nullptr) {
    for (size_t i = 0; i < n; ++i) scores[i] = ServedScore(logits[i]);
    return;
  }
  std::vector<float> e(dim);
  for (size_t i = 0; i < n; ++i) {
    FmSums fm = context_fm;
    for (uint32_t s = 0; s < slots; ++s) {
      if (!touched[s]) continue;
      for (uint32_t d = 0; d < dim; ++d) e[d] = xi(slot_pos[s] + d, static_cast<Eigen::Index>(i));
      fm.Add(e.data(), dim);
    }
    const double wide = context_linear + linear_sum(own[i]) + fm.Term(dim);
    scores[i] = ServedScore(logits[i] + static_cast<float>(wide));
  }
}

}  // namespace streamrec::model
