#include "model/frozen_table.h"

namespace streamrec::model {

bool FrozenTable::SharesChunkWith(const FrozenTable& other, size_t c) const {
  const size_t p = c / kPageChunks;
  if (p >= root_.size() || p >= other.root_.size()) return false;
  return root_[p]->chunks[c % kPageChunks] == other.root_[p]->chunks[c % kPageChunks];
}

}  // namespace streamrec::model
