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
    for (uint32_t i = 0; i < f.dim; ++i) dense_of_hash_[HashVectorDim(name, i)] = {index + i, field};
    index += f.dim;
  }
}

void DnnInputs::Add(std::span<const HashedFeature> features, EncodedEvent& out) const {
  for (const HashedFeature& f : features) {
    if (f.value == 0.0f) continue;
    if (!dense_of_hash_.empty()) {
      auto d = dense_of_hash_.find(f.hash);
      if (d != dense_of_hash_.end() && (f.field == 0 || f.field == d->second.field)) {
        out.dense.push_back({d->second.index, f.value});
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
