// SnapshotStore: versioned, incremental, checksummed model snapshots in RocksDB.
//
// A snapshot is a manifest (snapshots CF) naming, for every chunk of every state table
// of the model (weights, optimizer slots), the version at which that chunk was last
// written (chunks CF; version 0 = never written = all zeros). Persist writes only the
// chunks changed since the previous persist (ParamTable's persist tracker), so its cost
// follows what changed; unchanged chunks are shared by several snapshots through their
// versioned keys. Chunks go first, in batches; the manifest last, in its own fsynced
// WriteBatch: a crash before it leaves the previous snapshot intact (the orphan chunks
// are deleted at the next Open). Every chunk and manifest carries a checksum; Restore
// verifies all of them, and RestoreNewest skips a snapshot that fails for the newest
// good one. Retention keeps the newest `retain` manifests and deletes chunks no retained
// manifest references.
//
// Persisting is two steps so the trainer is not paused for the I/O: Capture (trainer
// thread) copies the changed chunks and builds the manifest; Write (one storage thread,
// in capture order) writes them. If a Write fails, the captures taken before the failure
// are dropped and the next Capture takes every chunk, so no manifest can name a chunk
// that was never written.
//
// Thread-safe: Capture/Restore on the trainer thread; Write on one storage thread;
// List/Export anywhere. Restore must not overlap a Write (retention may delete chunks).
#ifndef STREAMREC_STORAGE_SNAPSHOT_STORE_H_
#define STREAMREC_STORAGE_SNAPSHOT_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "model/model.h"
#include "model/stream_metrics.h"
#include "storage/database.h"

namespace streamrec::storage {

// SnapshotMeta: the trainer's counters stored with a snapshot.
struct SnapshotMeta {
  uint64_t version = 0;
  int64_t time_unix_ms = 0;
  uint64_t last_seq = 0;         // last logged event included
  uint64_t events_applied = 0;
  uint64_t updates_skipped = 0;
  uint64_t optimizer_step = 0;  // filled by Persist from the model
};

struct SnapshotInfo {
  SnapshotMeta meta;
  uint64_t bytes = 0;  // chunk bytes the snapshot references, plus its manifest
};

// RestoredState: what Restore/Import return besides the tables loaded into the model.
struct RestoredState {
  SnapshotMeta meta;
  model::StreamMetrics::State metrics;
};

// Manifest: a snapshot's content list (decoded form of the snapshots CF value).
struct TableManifest {
  std::string name;
  uint64_t size = 0;
  std::vector<uint64_t> chunk_versions;  // 0: never written (zeros)
};
struct Manifest {
  SnapshotMeta meta;
  std::string config;  // EncodeConfig
  model::StreamMetrics::State metrics;
  std::vector<TableManifest> tables;
  uint64_t encoded_bytes = 0;
};

class SnapshotStore {
 public:
  SnapshotStore(Database* db, size_t retain) : db_(db), retain_(retain < 1 ? 1 : retain) {}

  // Open reads the retained manifests and deletes chunks of unfinished snapshots.
  absl::Status Open();

  // PendingSnapshot: a captured snapshot not yet written.
  struct Pending {
    Manifest manifest;
    std::vector<std::pair<std::string, std::string>> chunks;  // key, sealed value
    uint64_t epoch = 0;
  };
  // Capture takes the model's changed chunks (all of them after a failed Write) and the
  // manifest for meta.version. Cost: a copy of the changed chunks.
  Pending Capture(model::Model& model, const SnapshotMeta& meta,
                  const model::StreamMetrics::State& metrics);
  // Write writes a capture: chunks, then the manifest (fsynced), then retention. Returns
  // the bytes written. `before_manifest` (tests) runs between the chunks and the manifest.
  absl::StatusOr<uint64_t> Write(Pending pending,
                                 const std::function<void()>& before_manifest = nullptr);
  // Persist is Capture then Write, on the calling thread.
  absl::StatusOr<uint64_t> Persist(model::Model& model, const SnapshotMeta& meta,
                                   const model::StreamMetrics::State& metrics,
                                   const std::function<void()>& before_manifest = nullptr);

  // Restore loads snapshot `version` into `model` (which must have a compatible config),
  // verifying every checksum. On failure the model may be half-loaded (use a scratch
  // model when that matters) but the store's bookkeeping is unchanged.
  absl::StatusOr<RestoredState> Restore(uint64_t version, model::Model& model);
  // RestoreNewest restores the newest snapshot that verifies; NotFound when there is
  // none. Snapshots that fail are reported on stderr and skipped.
  absl::StatusOr<RestoredState> RestoreNewest(model::Model& model);

  // Export returns snapshot `version` as one self-contained, checksummed file.
  absl::StatusOr<std::string> Export(uint64_t version);
  // Import loads an exported file into `model`, marking every chunk changed so the next
  // Persist writes it under a new version.
  static absl::StatusOr<RestoredState> Import(std::string_view file, model::Model& model);

  std::vector<SnapshotInfo> List() const;
  // OldestLastSeq: the log must be kept after this sequence number (0 when none).
  uint64_t OldestLastSeq() const;

 private:
  absl::Status DeleteOldest() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Database* const db_;
  const size_t retain_;
  mutable absl::Mutex mu_;
  std::map<uint64_t, Manifest> manifests_ ABSL_GUARDED_BY(mu_);
  // Latest captured version of every chunk, per table, and as of the last written
  // manifest (what `current_` returns to after a failed Write).
  std::map<std::string, std::vector<uint64_t>> current_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<uint64_t>> written_ ABSL_GUARDED_BY(mu_);
  // A failed Write bumps the epoch (dropping older captures) and forces a full capture.
  uint64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  bool force_full_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace streamrec::storage

#endif  // STREAMREC_STORAGE_SNAPSHOT_STORE_H_
