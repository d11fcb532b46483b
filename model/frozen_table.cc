#include "model/frozen_table.h"

namespace streamrec::model {

bool FrozenTable::SharesChunkWith(const FrozenTable& other, size_t c) const {
  // Slots past a table's last chunk (in its last page) hold no chunk to share.
  if (c >= num_chunks() || c >= other.num_chunks()) return false;
  const size_t p = c / kPageChunks;
  return root_[p]->chunks[c % kPageChunks] == other.root_[p]->chunks[c % kPageChunks];
}

}  // namespace streamrec::model
