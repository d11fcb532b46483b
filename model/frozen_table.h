// FrozenTable: an immutable array of floats, read by serving threads, built by the
// trainer (ParamTable::Freeze). Immutable after construction, so any number of threads
// may read it without locks.
//
// Design (a persistent two-level radix table):
//   root  -> kPageChunks-entry pages -> chunks of kChunkFloats floats
// every level held by shared_ptr<const ...>. A new version copies the root (one
// pointer per page), each page that holds a changed chunk (kPageChunks pointers) and
// each changed chunk (kChunkFloats floats); everything else is shared with the
// previous version. Publishing d changed chunks therefore costs
//   O(pages + min(d, pages) * kPageChunks + d * kChunkFloats)
// independent of the rows left unchanged. For 2^20 floats that is 64 root pointers,
// and 1 KiB per changed chunk.
//
// Memory: the current version holds one copy of every float (plus ~1.6% pointers); an
// older version still held by a reader additionally holds only the chunks that have
// changed since. Readers hold versions for one Predict, so the bound is the model size
// times (1 + number of versions a Predict can span, normally 1).
//
// Worst case, updates spread uniformly over the table (hashed long-tail ids): every
// chunk touched by an update is copied once per publication, so one publication copies
// at most min(updated coordinates, chunks) * 1 KiB. The updater adapts its publication
// interval so copying takes a bounded share of its time (server/core/updater.h).
#ifndef STREAMREC_MODEL_FROZEN_TABLE_H_
#define STREAMREC_MODEL_FROZEN_TABLE_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace streamrec::model {

inline constexpr size_t kChunkFloats = 256;  // 1 KiB chunks
inline constexpr size_t kPageChunks = 64;    // 64 chunks (64 KiB of floats) per page

struct FrozenChunk {
  std::array<float, kChunkFloats> values;
};

struct FrozenPage {
  std::array<std::shared_ptr<const FrozenChunk>, kPageChunks> chunks;
};

class FrozenTable {
 public:
  FrozenTable() = default;

  // Get returns element i; i < size().
  float Get(size_t i) const {
    const FrozenPage& page = *root_[i / (kChunkFloats * kPageChunks)];
    return page.chunks[(i / kChunkFloats) % kPageChunks]->values[i % kChunkFloats];
  }
  size_t size() const { return size_; }
  size_t num_chunks() const { return (size_ + kChunkFloats - 1) / kChunkFloats; }
  // Chunk c, shared (its first ChunkFloats(c) values are the table's).
  std::shared_ptr<const FrozenChunk> Chunk(size_t c) const {
    return root_[c / kPageChunks]->chunks[c % kPageChunks];
  }
  size_t ChunkFloats(size_t c) const {
    return std::min(kChunkFloats, size_ - c * kChunkFloats);
  }

  // SharesChunkWith reports whether chunk c is the same object in both tables (used by
  // tests to check that unchanged chunks are shared).
  bool SharesChunkWith(const FrozenTable& other, size_t c) const;

 private:
  friend class ParamTable;
  size_t size_ = 0;
  std::vector<std::shared_ptr<const FrozenPage>> root_;
};

}  // namespace streamrec::model

#endif  // STREAMREC_MODEL_FROZEN_TABLE_H_
