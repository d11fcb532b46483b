#include "model/param_table.h"

#include <algorithm>
#include <cstring>

namespace streamrec::model {
namespace {

// ZeroChunk: one all-zero chunk shared by every table, so untouched regions of a sparse
// hashed model cost a pointer, not 1 KiB, in each published snapshot.
const std::shared_ptr<const FrozenChunk>& ZeroChunk() {
  static const std::shared_ptr<const FrozenChunk> zero = [] {
    auto chunk = std::make_shared<FrozenChunk>();
    chunk->values.fill(0.0f);
    return chunk;
  }();
  return zero;
}

std::shared_ptr<const FrozenChunk> CopyChunk(const std::vector<float>& values, size_t c) {
  const size_t begin = c * kChunkFloats;
  const size_t n = std::min(kChunkFloats, values.size() - begin);
  // Bitwise zero (not -0.0f), so sharing never changes a value.
  static const float kZeros[kChunkFloats] = {};
  if (std::memcmp(values.data() + begin, kZeros, n * sizeof(float)) == 0) return ZeroChunk();
  auto chunk = std::make_shared<FrozenChunk>();
  std::memcpy(chunk->values.data(), values.data() + begin, n * sizeof(float));
  std::fill(chunk->values.begin() + n, chunk->values.end(), 0.0f);
  return chunk;
}

}  // namespace

ParamTable::ParamTable(size_t size)
    : values_(size, 0.0f),
      dirty_((size + kChunkFloats - 1) / kChunkFloats, false),
      persist_dirty_(dirty_.size(), false) {}

void ParamTable::SetChunk(size_t c, const float* data, size_t n) {
  for (size_t k = 0; k < n; ++k) Set(c * kChunkFloats + k, data[k]);
}

void ParamTable::SetRange(size_t begin, const float* v, size_t n) {
  if (n == 0) return;
  float* out = values_.data() + begin;
  ptrdiff_t nonzero = 0;
  for (size_t k = 0; k < n; ++k) {
    nonzero += (v[k] != 0.0f) - (out[k] != 0.0f);
    out[k] = v[k];
  }
  nonzero_ = static_cast<size_t>(static_cast<ptrdiff_t>(nonzero_) + nonzero);
  for (size_t c = begin / kChunkFloats, last = (begin + n - 1) / kChunkFloats; c <= last; ++c) {
    if (!dirty_[c]) {
      dirty_[c] = true;
      dirty_list_.push_back(static_cast<uint32_t>(c));
    }
    if (!persist_dirty_[c]) {
      persist_dirty_[c] = true;
      persist_list_.push_back(static_cast<uint32_t>(c));
    }
  }
}

std::vector<uint32_t> ParamTable::TakePersistDirty() {
  std::vector<uint32_t> out;
  out.swap(persist_list_);
  for (uint32_t c : out) persist_dirty_[c] = false;
  std::sort(out.begin(), out.end());
  return out;
}

FrozenTable ParamTable::Freeze(const FrozenTable* previous) {
  FrozenTable out;
  out.size_ = values_.size();
  const size_t chunks = dirty_.size();
  const size_t pages = (chunks + kPageChunks - 1) / kPageChunks;
  if (previous == nullptr || previous->size_ != values_.size()) {
    out.root_.reserve(pages);
    for (size_t p = 0; p < pages; ++p) {
      auto page = std::make_shared<FrozenPage>();
      for (size_t k = 0; k < kPageChunks && p * kPageChunks + k < chunks; ++k) {
        page->chunks[k] = CopyChunk(values_, p * kPageChunks + k);
      }
      out.root_.push_back(std::move(page));
    }
  } else {
    out.root_ = previous->root_;
    // Group changed chunks by page so each touched page is copied once.
    std::sort(dirty_list_.begin(), dirty_list_.end());
    size_t i = 0;
    while (i < dirty_list_.size()) {
      const size_t p = dirty_list_[i] / kPageChunks;
      auto page = std::make_shared<FrozenPage>(*previous->root_[p]);
      for (; i < dirty_list_.size() && dirty_list_[i] / kPageChunks == p; ++i) {
        page->chunks[dirty_list_[i] % kPageChunks] = CopyChunk(values_, dirty_list_[i]);
      }
      out.root_[p] = std::move(page);
    }
  }
  for (uint32_t c : dirty_list_) dirty_[c] = false;
  dirty_list_.clear();
  return out;
}

}  // namespace streamrec::model
