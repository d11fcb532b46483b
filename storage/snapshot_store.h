// SnapshotStore: versioned, incremental, checksummed model snapshots in RocksDB.
//
// A snapshot is a manifest (snapshots CF) naming, for every chunk of every state table
// of the model (weights, optimizer slots), the version at which that chunk was last
// written (chunks CF; version 0 = never written = all zeros; versions with kStagingBit
// were staged by an import). Persist writes only the chunks changed since the previous
// persist (ParamTable's persist tracker), so its cost follows what changed; unchanged
// chunks are shared by several snapshots through their versioned keys. Chunks go first,
// in batches; the manifest last, in its own fsynced WriteBatch: a crash before it leaves
// the previous snapshot intact. Every chunk and manifest carries a checksum; restores
// verify all of them and reject non-finite values. Retention keeps the newest `retain`
// manifests and deletes chunks no retained manifest references.
//
// Unreferenced chunks (a crash or failure between chunks and manifest, an abandoned
// import) are swept: at Open, and on the storage thread after a failed write. A sweep
// never deletes a chunk that an unreadable manifest might reference: while any manifest
// is unreadable, nothing is swept (unless the operator accepted the loss).
//
// Persisting is two steps so the trainer is not paused for the I/O: Capture (trainer
// thread) copies the changed chunks and builds the manifest; Write (one storage thread,
// in capture order) writes them. If a Write fails, the captures taken before the failure
// are dropped and the next Capture takes every chunk, so no manifest can name a chunk
// that was never written.
//
// Locking: the mutex guards only the in-memory bookkeeping; no RocksDB call is made
// under it. Reads that span calls (restores, exports) go through a RocksDB snapshot, so
// retention running meanwhile cannot pull chunks from under them.
//
// Threads: Capture, Restore, RestoreNewest on the trainer thread (or the owner before
// serving); Write, Sweep and import staging on the one storage thread; List, Find,
// OldestLastSeq from any thread. A Restore that will base later captures on the
// restored manifest must not overlap retention (the server lets pending writes finish
// first).
#ifndef STREAMREC_STORAGE_SNAPSHOT_STORE_H_
#define STREAMREC_STORAGE_SNAPSHOT_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "model/model.h"
#include "model/stream_metrics.h"
#include "storage/database.h"
#include "storage/snapshot_codec.h"

namespace streamrec::storage {

struct SnapshotInfo {
  SnapshotMeta meta;
  uint64_t bytes = 0;  // chunk bytes the snapshot references, plus its manifest
};

// RestoredState: what a restore returns besides the tables loaded into the model.
struct RestoredState {
  SnapshotMeta meta;
  model::StreamMetrics::State metrics;
};

struct SnapshotStoreOptions {
  size_t retain = 5;
  // Start even when snapshots exist but none verifies (or manifests are unreadable):
  // unreadable manifests are deleted and unreferenced chunks swept.
  bool accept_data_loss = false;
  // Sweep unreferenced chunks at Open (off for read-only tools such as streamrec-verify).
  bool sweep_on_open = true;
};

class SnapshotStore {
 public:
  SnapshotStore(Database* db, SnapshotStoreOptions options);
  SnapshotStore(Database* db, size_t retain) : SnapshotStore(db, SnapshotStoreOptions{retain}) {}

  // Open reads the manifests and sweeps unreferenced chunks.
  absl::Status Open();

  // A captured chunk: its key and sealed value, or (a table's published copy, equal to
  // it at the capture) the immutable chunk itself, sealed only when written.
  struct CapturedChunk {
    std::string key;
    std::string value;
    std::shared_ptr<const model::FrozenChunk> shared;
    size_t floats = 0;  // of `shared`
  };
  // Pending: a captured snapshot not yet written.
  struct Pending {
    Manifest manifest;
    std::vector<CapturedChunk> chunks;
    uint64_t epoch = 0;
  };
  // Capture takes the model's changed chunks (all of them after a failed Write) and the
  // manifest for meta.version. Cost: a copy of the changed chunks, except those of a
  // table whose published copy equals it (StateTable::published: the weights just
  // published), which are shared; Write seals those and frees each chunk once written.
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

  // Restore loads snapshot `version` into `model` (compatible config), verifying every
  // checksum and value. With verify_first, every chunk is verified before the model is
  // touched, so a failure leaves the model as it was (for a model that is serving);
  // otherwise it is loaded in one pass and may be half-loaded on failure. Chunks equal
  // to the model's are not rewritten, so the next publication copies only what differs.
  absl::StatusOr<RestoredState> Restore(uint64_t version, model::Model& model,
                                        bool verify_first = false);
  // RestoreNewest restores the newest snapshot that verifies into a fresh model. NotFound
  // when the store holds no snapshot at all; FailedPrecondition naming every snapshot and
  // its defect when snapshots exist but none verifies (unless accept_data_loss).
  absl::StatusOr<RestoredState> RestoreNewest(model::Model& model);
  // Unreadable reports manifests that failed to decode at Open ("version: reason").
  std::vector<std::string> Unreadable() const;

  // Find returns a copy of the manifest of `version`.
  absl::StatusOr<Manifest> Find(uint64_t version) const;
  std::vector<SnapshotInfo> List() const;
  // OldestLastSeq: the log must be kept after this sequence number (0 when none).
  uint64_t OldestLastSeq() const;
  // NewestVersion: the highest manifest version seen, readable or not, including ones
  // deleted under accept_data_loss (0 when none): new versions must be above it.
  uint64_t NewestVersion() const;

  // Sweep deletes chunks that no manifest references (nor a pinned staging version).
  // Storage thread. Returns the number deleted.
  absl::StatusOr<uint64_t> Sweep();

  // Imports stage chunks under a fresh staging version (storage/snapshot_export.h),
  // pinned (never swept) from BeginStaging to EndStaging; a manifest written meanwhile
  // that references them keeps them for good.
  uint64_t BeginStaging();
  void EndStaging(uint64_t staging_version);

  // Swapping a model's whole state for `source` (a retained snapshot for a rollback, a
  // staged import), durably before visibly:
  //   Verify(source, model)       every chunk reads back intact and valid; model untouched
  //   WriteSwap(source, meta, …)  the snapshot of the swapped state: a manifest naming
  //                               `source`'s chunks under meta.version (no chunk copied)
  //   LoadSwapped(source, model)  loads it in place; the next capture builds on it
  // The caller publishes meta.version only after all three succeeded.
  absl::Status Verify(const Manifest& source, model::Model& model);
  absl::StatusOr<uint64_t> WriteSwap(const Manifest& source, const SnapshotMeta& meta,
                                     const model::StreamMetrics::State& metrics,
                                     const std::function<void()>& before_manifest = nullptr);
  absl::StatusOr<RestoredState> LoadSwapped(const Manifest& source, model::Model& model);

  Database* db() const { return db_; }

 private:
  enum class LoadMode { kVerify, kLoad, kVerifyThenLoad };
  absl::StatusOr<RestoredState> Load(const Manifest& m, model::Model& model, LoadMode mode,
                                     const ReadSnapshot* snapshot);
  // Retire removes the oldest manifests beyond retention from the bookkeeping and
  // returns the batch that deletes them and the chunks only they referenced.
  void RetireOldest(rocksdb::WriteBatch& batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MarkReferenced(const Manifest& m, std::set<std::string>& keys) const;

  Database* const db_;
  const SnapshotStoreOptions options_;
  mutable absl::Mutex mu_;
  std::map<uint64_t, Manifest> manifests_ ABSL_GUARDED_BY(mu_);
  // Manifests that failed to decode at Open: version -> reason.
  std::map<uint64_t, std::string> unreadable_ ABSL_GUARDED_BY(mu_);
  // Latest captured version of every chunk, per table, and as of the last written
  // manifest (what `current_` returns to after a failed Write).
  std::map<std::string, std::vector<uint64_t>> current_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<uint64_t>> written_ ABSL_GUARDED_BY(mu_);
  // A failed Write bumps the epoch (dropping older captures) and forces a full capture.
  uint64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  bool force_full_ ABSL_GUARDED_BY(mu_) = false;
  std::set<uint64_t> pinned_staging_ ABSL_GUARDED_BY(mu_);
  uint64_t next_staging_ ABSL_GUARDED_BY(mu_) = kStagingBit | 1;
  // The highest manifest version found at Open, readable or not.
  uint64_t newest_seen_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace streamrec::storage

#endif  // STREAMREC_STORAGE_SNAPSHOT_STORE_H_
