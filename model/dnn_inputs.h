// DnnInputs: where each hashed feature of an event enters the deep model's first layer
// (model/dnn_model.h), built once from the config and shared, immutable, by the trainer
// and its snapshots (safe from any number of threads).
//
// The input is concat(slot embeddings, dense inputs):
//   - slot s < fields.size(): embedded field s. Its features' embedding rows (row =
//     RowOf(hash, hash_bits) of one shared table of embedding_dim floats per row) are
//     pooled: mean pooling is sum_j value_j x row_j / (number of the field's features),
//     so a category list averages its values' rows and a number field (one feature)
//     embeds as value x its row; sum pooling drops the division.
//   - the "other" slot (when other_slot): every feature of a field in neither list
//     (item_id unless listed, crosses, fields unknown to old logs), sum-pooled.
//   - dense field f of dimension d: component i (hash HashVectorDim(name_hash, i); for
//     d = 1 also the number hash HashName(name)) enters raw at its own input position.
//     A feature of a dense field whose hash is none of those (a dimension beyond d) goes
//     to the other slot.
// Features with value 0 are left out (they would add nothing, and do not count in a mean).
#ifndef STREAMREC_MODEL_DNN_INPUTS_H_
#define STREAMREC_MODEL_DNN_INPUTS_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "model/example.h"
#include "model/model_config.h"

namespace streamrec::model {

// EmbeddedFeature: one feature routed to a slot; `weight` is its value times the slot's
// pooling factor once known (Finish).
struct EmbeddedFeature {
  uint64_t row;
  float value;
  uint32_t slot;
  float weight = 0;
};

// EncodedEvent: an event's features sorted into the input's parts.
struct EncodedEvent {
  std::vector<EmbeddedFeature> embedded;
  std::vector<std::pair<uint32_t, float>> dense;  // (dense input index, value), additive
  void Clear() {
    embedded.clear();
    dense.clear();
  }
};

class DnnInputs {
 public:
  // The config must have passed Validate().
  explicit DnnInputs(const ModelConfig& config);

  // Add routes `features` into `out` (appending; call Finish after the last Add).
  void Add(std::span<const HashedFeature> features, EncodedEvent& out) const;
  // Finish sets every embedded feature's weight from its slot's feature count.
  void Finish(EncodedEvent& event, std::vector<uint32_t>& count_scratch) const;
  // PoolingFactor: what each feature's value is multiplied by in a slot of `count`
  // features.
  float PoolingFactor(uint32_t slot, uint32_t count) const {
    return (mean_ && slot < fields_) ? 1.0f / static_cast<float>(count) : 1.0f;
  }

  uint32_t slots() const { return slots_; }
  uint32_t embedding_dim() const { return dim_; }
  uint32_t hash_bits() const { return hash_bits_; }
  size_t dense_offset() const { return size_t{slots_} * dim_; }
  size_t input_dim() const { return input_dim_; }

 private:
  uint32_t hash_bits_;
  uint32_t dim_;
  uint32_t fields_;   // listed embedded fields
  uint32_t slots_;    // fields_ + the other slot
  bool other_;
  bool mean_;
  size_t input_dim_;
  absl::flat_hash_map<uint32_t, uint32_t> slot_of_field_;  // field id -> slot
  struct DenseDim {
    uint32_t index;
    uint32_t field;
  };
  absl::flat_hash_map<uint64_t, DenseDim> dense_of_hash_;
  // The direct index: dense input i is the component of hash dense_hash_[i] (its vector
  // hash), field dense_field_[i]. A vector field's components usually come in order, so
  // Add first tries the input after the last one it placed, then the map: the same
  // routing, without a map lookup per component.
  std::vector<uint64_t> dense_hash_;
  std::vector<uint32_t> dense_field_;
};

}  // namespace streamrec::model

#endif  // STREAMREC_MODEL_DNN_INPUTS_H_
