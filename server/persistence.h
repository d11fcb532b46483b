// Persistence: a server's storage under --data_dir: the RocksDB database, its metadata
// (config, vector-field registry), the event log (RocksEventLog, or UnloggedEventLog
// with --durability=none), the snapshot store, and the storage thread
// (server/storage_executor.h) with the jobs that run on it: writing captured snapshots
// (then retention and log truncation), sweeping chunks no snapshot references after a
// failure, and recovering a data dir that stopped taking writes (a full disk).
//
// Open refuses a data dir written by an incompatible model (unless start_fresh, which
// deletes it). Threads: Open, Stop from the owner; Persist from the updater (its
// PersistFn); the accessors from any thread, with the thread rules of the objects they
// return; health_changed runs on the storage thread.
#ifndef STREAMREC_SERVER_PERSISTENCE_H_
#define STREAMREC_SERVER_PERSISTENCE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "model/model.h"
#include "server/core/histogram.h"
#include "server/core/updater.h"
#include "server/storage_executor.h"
#include "storage/storage_options.h"
#include "storage/database.h"
#include "storage/event_log.h"
#include "storage/meta_store.h"
#include "storage/snapshot_store.h"

namespace streamrec::server {

class Persistence {
 public:
  // Open opens (or creates) the data dir for `model`, keeping the log's last
  // `dedup_window` events through truncation. `health_changed` (may be empty) runs on the
  // storage thread after each periodic check, to re-read writable().
  // `model` is the config to check the stored one against; with `take_stored`, a data dir
  // that has a config is resumed with that one instead (the operator gave none).
  // model_config() is the config in effect.
  static absl::StatusOr<std::unique_ptr<Persistence>> Open(const storage::StorageOptions& options,
                                                           const model::ModelConfig& model,
                                                           bool take_stored, size_t dedup_window,
                                                           std::function<void()> health_changed);
  ~Persistence();  // Stop()

  storage::Database& db() { return *db_; }
  const storage::Database& db() const { return *db_; }
  storage::MetaStore& meta() { return *meta_; }
  storage::EventLog& log() { return *log_; }
  // logged: events are logged (durability async or sync), so a restart replays them.
  bool logged() const { return options_.durability != storage::Durability::kNone; }
  storage::SnapshotStore& store() { return *store_; }
  StorageExecutor& executor() { return *executor_; }
  const storage::StorageOptions& options() const { return options_; }
  const model::ModelConfig& model_config() const { return model_; }
  // True when Open took the data dir's stored config (take_stored and one was stored).
  bool resumed_stored_config() const { return resumed_stored_config_; }

  bool writable() const { return db_->writable(); }
  // Persist captures the model's changed state now and writes it on the storage thread,
  // completing `ticket` with the outcome (the updater's PersistFn).
  absl::Status Persist(model::Model& model, const core::Checkpoint& checkpoint,
                       std::shared_ptr<core::PersistTicket> ticket);
  // MetaOf: the stored description of a checkpoint, stamped with the current time.
  static storage::SnapshotMeta MetaOf(const core::Checkpoint& checkpoint);
  // Snapshot writes on the storage thread, for /metrics: their duration (chunks,
  // manifest, retention; failed writes included) and the bytes of those that succeeded.
  // Thread-safe.
  const core::Histogram& write_seconds() const { return write_seconds_; }
  uint64_t bytes_written() const { return bytes_written_.load(std::memory_order_relaxed); }
  // NeedSweep asks for a sweep of unreferenced chunks at the next check.
  void NeedSweep() { sweep_needed_.store(true); }
  // Stop runs what the storage thread has queued, then stops it. Idempotent.
  void Stop();

 private:
  Persistence(const storage::StorageOptions& options, size_t dedup_window)
      : options_(options), dedup_window_(dedup_window) {}
  // Tick: the storage thread's periodic check (recovery, sweeps, health).
  void Tick();

  const storage::StorageOptions options_;
  model::ModelConfig model_;  // in effect; set by Open
  bool resumed_stored_config_ = false;
  const size_t dedup_window_;
  std::function<void()> health_changed_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::MetaStore> meta_;
  std::unique_ptr<storage::EventLog> log_;
  std::unique_ptr<storage::SnapshotStore> store_;
  std::unique_ptr<StorageExecutor> executor_;
  std::atomic<bool> sweep_needed_{false};
  core::Histogram write_seconds_{core::LatencyBuckets()};
  std::atomic<uint64_t> bytes_written_{0};
  std::chrono::steady_clock::time_point next_recovery_log_;  // storage thread only
};

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_PERSISTENCE_H_
