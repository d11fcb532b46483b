// ParamTable: a trainer-side array of floats that remembers which chunks changed since
// the last Freeze (so a published snapshot copies only those, see frozen_table.h) and,
// separately, since the last TakePersistDirty (so a persisted snapshot writes only
// those). Thread-compatible: owned and used by one thread (the updater).
#ifndef STREAMREC_MODEL_PARAM_TABLE_H_
#define STREAMREC_MODEL_PARAM_TABLE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/frozen_table.h"

namespace streamrec::model {

class ParamTable {
 public:
  explicit ParamTable(size_t size);

  float Get(size_t i) const { return values_[i]; }
  // Prefetch asks the CPU to bring value i into the cache (a hint: changes nothing).
  void Prefetch(size_t i) const { __builtin_prefetch(values_.data() + i, 1); }
  // Set stores v at i and marks its chunk changed.
  void Set(size_t i, float v) {
    nonzero_ += (v != 0.0f) - (values_[i] != 0.0f);
    values_[i] = v;
    const size_t c = i / kChunkFloats;
    if (!dirty_[c]) {
      dirty_[c] = true;
      dirty_list_.push_back(static_cast<uint32_t>(c));
    }
    if (!persist_dirty_[c]) {
      persist_dirty_[c] = true;
      persist_list_.push_back(static_cast<uint32_t>(c));
    }
  }
  // SetRange: Set(begin + k, v[k]) for k in [0, n), in one pass.
  void SetRange(size_t begin, const float* v, size_t n);
  size_t num_chunks() const { return dirty_.size(); }
  // Chunk returns the floats of chunk c (the last one may be short).
  const float* ChunkData(size_t c) const { return values_.data() + c * kChunkFloats; }
  size_t ChunkSize(size_t c) const {
    return std::min(kChunkFloats, values_.size() - c * kChunkFloats);
  }
  // SetChunk overwrites chunk c (n floats) and marks it changed for both trackers.
  void SetChunk(size_t c, const float* data, size_t n);
  // TakePersistDirty returns the chunks changed since the previous call, sorted, and
  // forgets them.
  std::vector<uint32_t> TakePersistDirty();
  // MarkPersistDirty marks chunk c changed again (after a failed persist).
  void MarkPersistDirty(uint32_t c) {
    if (!persist_dirty_[c]) {
      persist_dirty_[c] = true;
      persist_list_.push_back(c);
    }
  }
  size_t size() const { return values_.size(); }
  size_t nonzero() const { return nonzero_; }
  size_t dirty_chunks() const { return dirty_list_.size(); }
  const std::vector<float>& values() const { return values_; }

  // Freeze returns an immutable copy that shares every chunk unchanged since `previous`
  // was frozen from this table (pass nullptr, or a table of another size, for a full
  // copy), and clears the changed marks. Cost: see frozen_table.h.
  FrozenTable Freeze(const FrozenTable* previous);
  // ClearChanged forgets the chunks changed since the last Freeze without freezing (for
  // a table published another way, as DnnModel's dense layers are); the persistence
  // marks stay.
  void ClearChanged() {
    for (uint32_t c : dirty_list_) dirty_[c] = false;
    dirty_list_.clear();
  }

 private:
  std::vector<float> values_;
  std::vector<bool> dirty_;
  std::vector<uint32_t> dirty_list_;
  std::vector<bool> persist_dirty_;
  std::vector<uint32_t> persist_list_;
  size_t nonzero_ = 0;
};

}  // namespace streamrec::model

#endif  // STREAMREC_MODEL_PARAM_TABLE_H_
