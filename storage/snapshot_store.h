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
// Thread-safe: Persist/Restore run on the trainer thread; List/Export on RPC threads.
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

  // Persist writes the model's changed chunks and a manifest for meta.version, then
  // applies retention. Returns the bytes written. `before_manifest` (tests) runs between
  // the chunks and the manifest.
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
  // Latest persisted version of every chunk, per table.
  std::map<std::string, std::vector<uint64_t>> current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace streamrec::storage

#endif  // STREAMREC_STORAGE_SNAPSHOT_STORE_H_
