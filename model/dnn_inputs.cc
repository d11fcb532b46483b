#include "model/dnn_inputs.h"

#include "model/hash.h"

namespace streamrec::model {

DnnInputs::DnnInputs(const ModelConfig& config)
    : hash_bits_(config.hash_bits),
      dim_(config.dnn.embedding_dim),
      fields_(static_cast<uint32_t>(config.dnn.fields.size())),
      slots_(fields_ + (config.dnn.other_slot ? 1 : 0)),
      other_(config.dnn.other_slot),
      mean_(config.dnn.pooling == DnnPooling::kMean),
      input_dim_(DnnInputDim(config.dnn)) {
  for (uint32_t s = 0; s < fields_; ++s) {
    slot_of_field_[FieldId(HashName(config.dnn.fields[s]))] = s;
  }
  uint32_t index = 0;
  for (const DnnDenseField& f : config.dnn.dense_fields) {
    const uint64_t name = HashName(f.name);
    const uint32_t field = FieldId(name);
    if (f.dim == 1) dense_of_hash_[name] = {index, field};
    for (uint32_t i = 0; i < f.dim; ++i) {
      const uint64_t hash = HashVectorDim(name, i);
      dense_of_hash_[hash] = {index + i, field};
      dense_hash_.push_back(hash);
      dense_field_.push_back(field);
    }
    index += f.dim;
  }
  // The direct index must route as the map does: if a hash collision made the map send
  // some component's hash elsewhere, do without it.
  for (size_t i = 0; i < dense_hash_.size(); ++i) {
    const DenseDim& d = dense_of_hash_.at(dense_hash_[i]);
    if (d.index != i || d.field != dense_field_[i]) {
      dense_hash_.clear();
      dense_field_.clear();
      break;
    }
  }
}

void DnnInputs::Add(std::span<const HashedFeature> features, EncodedEvent& out) const {
  const size_t dense_inputs = dense_hash_.size();
  size_t next = 0;  // the dense input after the last one placed
  for (const HashedFeature& f : features) {
    if (f.value == 0.0f) continue;
    if (next < dense_inputs && dense_hash_[next] == f.hash &&
        (f.field == 0 || f.field == dense_field_[next])) {
      // What the map gives for this hash (checked at construction).
      out.dense.push_back({static_cast<uint32_t>(next), f.value});
      ++next;
      continue;
    }
    if (!dense_of_hash_.empty()) {
      auto d = dense_of_hash_.find(f.hash);
      if (d != dense_of_hash_.end() && (f.field == 0 || f.field == d->second.field)) {
        out.dense.push_back({d->second.index, f.value});
        next = size_t{d->second.index} + 1;
        continue;
      }
    }
    auto s = slot_of_field_.find(f.field);
    if (s != slot_of_field_.end()) {
      out.embedded.push_back({RowOf(f.hash, hash_bits_), f.value, s->second});
    } else if (other_) {
      out.embedded.push_back({RowOf(f.hash, hash_bits_), f.value, fields_});
    }
  }
}

void DnnInputs::Finish(EncodedEvent& event, std::vector<uint32_t>& counts) const {
  counts.assign(slots_, 0);
  for (const EmbeddedFeature& f : event.embedded) ++counts[f.slot];
  for (EmbeddedFeature& f : event.embedded) {
    f.weight = f.value * PoolingFactor(f.slot, counts[f.slot]);
  }
}

}  // namespace streamrec::model
