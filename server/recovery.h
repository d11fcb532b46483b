// Recovery: what a server does at start with a data dir, before it serves: open the
// snapshot store (which sweeps chunks no snapshot references), register the stored vector
// fields, restore the newest snapshot that verifies into the updater's model (a new data
// dir gets snapshot 0, the untrained model), then replay the events logged after it
// through the same training path, flush markers included (a mini-batch model cuts its
// partial batches where the live server did). It refuses, naming what is wrong, a data
// dir whose snapshots all fail or whose log has a gap after the restored snapshot, unless
// the operator accepted the loss (storage::StorageOptions::accept_data_loss).
//
// Threads: the owner's, before the pipeline starts (the updater's thread is not running).
#ifndef STREAMREC_SERVER_RECOVERY_H_
#define STREAMREC_SERVER_RECOVERY_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/core/updater.h"
#include "server/persistence.h"
#include "server/vector_dims.h"

namespace streamrec::server {

struct Recovered {
  uint64_t next_seq = 1;                // the number the next logged event gets
  std::vector<std::string> recent_ids;  // event ids of the de-duplication window
};

struct RecoveryOptions {
  size_t dedup_window = 0;
  // Recover returns Cancelled soon after this becomes true (SIGTERM during a replay).
  const std::atomic<bool>* cancel = nullptr;
};

absl::StatusOr<Recovered> Recover(Persistence& persistence, core::Updater& updater,
                                  VectorDims& dims, const RecoveryOptions& options);

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_RECOVERY_H_
