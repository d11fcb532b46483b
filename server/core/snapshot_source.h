// SnapshotSource: where serving gets the parameters it scores with, the seam a replica
// fed by a stream of parameter deltas will implement. Today the only source is the local
// updater, through the SnapshotSlot it publishes into (server/core/snapshot_slot.h).
//
// Contract: Get returns the newest published snapshot, never null once the source is
// constructed; snapshots are immutable and their versions never decrease. A reader holds
// the shared_ptr for one request: holding it long delays the freeing of what it shares
// with newer versions. Thread-safe: Get from any number of threads.
#ifndef STREAMREC_SERVER_CORE_SNAPSHOT_SOURCE_H_
#define STREAMREC_SERVER_CORE_SNAPSHOT_SOURCE_H_

#include <memory>

#include "model/snapshot.h"

namespace streamrec::core {

class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  virtual std::shared_ptr<const model::Snapshot> Get() const = 0;
};

}  // namespace streamrec::core

#endif  // STREAMREC_SERVER_CORE_SNAPSHOT_SOURCE_H_
