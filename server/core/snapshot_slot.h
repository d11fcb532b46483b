// SnapshotSlot: holds the snapshot that serving reads: the SnapshotSource of a server
// whose own updater publishes (server/core/snapshot_source.h). Thread-safe: Get from any
// number of Predict threads, Exchange from the updater. A reader copies the
// shared_ptr under a mutex held for a few nanoseconds (no allocation, no I/O), then
// scores without any lock. The updater keeps every replaced snapshot until no reader
// holds it and frees it on its own thread, so a Predict thread never pays for freeing
// a snapshot (see Updater).
#ifndef STREAMREC_SERVER_CORE_SNAPSHOT_SLOT_H_
#define STREAMREC_SERVER_CORE_SNAPSHOT_SLOT_H_

#include <memory>

#include "model/snapshot.h"
#include "server/core/mutex.h"
#include "server/core/snapshot_source.h"

namespace streamrec::core {

class SnapshotSlot final : public SnapshotSource {
 public:
  std::shared_ptr<const model::Snapshot> Get() const override {
    MutexLock lock(&mu_);
    return current_;
  }
  // Exchange installs `next` and returns the snapshot it replaced.
  std::shared_ptr<const model::Snapshot> Exchange(std::shared_ptr<const model::Snapshot> next) {
    MutexLock lock(&mu_);
    current_.swap(next);
    return next;
  }

 private:
  mutable Mutex mu_;
  std::shared_ptr<const model::Snapshot> current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace streamrec::core

#endif  // STREAMREC_SERVER_CORE_SNAPSHOT_SLOT_H_
