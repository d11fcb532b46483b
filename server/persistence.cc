#include "server/persistence.h"
#include "common/log.h"

#include <algorithm>
#include <cstdio>
#include <malloc.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/security/audit.h"
#include "storage/config_codec.h"
#include "storage/rocks_event_log.h"
#include "storage/unlogged_event_log.h"

namespace streamrec::server {

absl::StatusOr<std::unique_ptr<Persistence>> Persistence::Open(
    const storage::StorageOptions& options, const model::ModelConfig& requested,
    bool take_stored, size_t dedup_window, std::function<void()> health_changed) {
  std::unique_ptr<Persistence> p(new Persistence(options, dedup_window));
  p->model_ = requested;
  const model::ModelConfig& model = p->model_;
  p->health_changed_ = std::move(health_changed);
  storage::DatabaseOptions db_options;
  db_options.dir = options.data_dir;
  db_options.file_system = options.file_system;
  db_options.impressions = options.impressions && options.log_record_format != 3;
  absl::StatusOr<std::unique_ptr<storage::Database>> db = storage::Database::Open(db_options);
  if (!db.ok()) return db.status();
  p->db_ = *std::move(db);
  p->meta_ = std::make_unique<storage::MetaStore>(p->db_.get());
  absl::StatusOr<std::optional<std::string>> stored = p->meta_->LoadEncodedConfig();
  if (!stored.ok()) return stored.status();
  if (stored->has_value()) {
    absl::StatusOr<model::ModelConfig> config = storage::DecodeConfig(**stored);
    if (config.ok() && take_stored) {
      p->model_ = *config;
      p->resumed_stored_config_ = true;
    } else if (config.ok()) {
      // Settings the config file left out take the data dir's (its tables and its
      // training arithmetic depend on them).
      if (!requested.optimizer.normalized_explicit) {
        p->model_.optimizer.normalized = config->optimizer.normalized;
      }
      if (!requested.dnn.kernels_explicit && model::UsesDnnConfig(config->kind)) {
        p->model_.dnn.kernels = config->dnn.kernels;
      }
    }
    absl::Status compatible =
        config.ok() ? storage::CheckCompatible(*config, model) : config.status();
    if (!compatible.ok()) {
      if (!options.start_fresh) {
        return absl::FailedPreconditionError(absl::StrCat(
            "--data_dir ", options.data_dir, " cannot be resumed: ", compatible.message(),
            ". Use the matching --model_config, another --data_dir, or --start_fresh to "
            "delete this data"));
      }
      log::Warning("--start_fresh: deleting the data dir's contents",
                   {{"data_dir", options.data_dir}, {"reason", std::string(compatible.message())}});
      p->meta_.reset();
      p->db_.reset();
      // A new data dir: the default arithmetic unless the config named one.
      p->model_.dnn.kernels = requested.dnn.kernels;
      const absl::Status d = storage::Database::Destroy(options.data_dir);
      security::Audit("start_fresh", {"local", "flag", absl::StrCat("uid ", ::getuid())}, d,
                      absl::StrCat("deleted ", options.data_dir, ": ", compatible.message()));
      if (!d.ok()) return d;
      db = storage::Database::Open(db_options);
      if (!db.ok()) return db.status();
      p->db_ = *std::move(db);
      p->meta_ = std::make_unique<storage::MetaStore>(p->db_.get());
    }
  }
  if (absl::Status w = p->meta_->SaveConfig(model); !w.ok()) return w;
  if (options.durability == storage::Durability::kNone) {
    p->log_ = std::make_unique<storage::UnloggedEventLog>(p->db_.get(), p->meta_.get());
  } else {
    p->log_ = std::make_unique<storage::RocksEventLog>(
        p->db_.get(), p->meta_.get(), options.durability == storage::Durability::kSync,
        options.log_record_format == 3 ? storage::RecordEncoding::kLegacy
                                       : storage::RecordEncoding::kCompact);
  }
  storage::SnapshotStoreOptions store_options;
  store_options.retain = options.snapshots_retained;
  store_options.accept_data_loss = options.accept_data_loss;
  p->store_ = std::make_unique<storage::SnapshotStore>(p->db_.get(), store_options);
  Persistence* self = p.get();
  p->executor_ = std::make_unique<StorageExecutor>([self] { self->Tick(); },
                                                   options.recovery_interval);
  return p;
}

Persistence::~Persistence() { Stop(); }

void Persistence::Stop() {
  if (executor_) executor_->Stop();
}

void Persistence::Tick() {
  if (!db_->writable()) {
    if (health_changed_) health_changed_();
    if (absl::Status s = db_->TryRecover(); !s.ok()) {
      // Retried every recovery_interval; logged once a minute.
      const auto now = std::chrono::steady_clock::now();
      if (now >= next_recovery_log_) {
        log::Warning("storage still not writable (retrying)", {{"error", std::string(s.message())}});
        next_recovery_log_ = now + std::chrono::minutes(1);
      }
    }
  } else {
    next_recovery_log_ = {};
  }
  // Chunks of failed snapshot writes and abandoned imports.
  if (db_->writable() && sweep_needed_.exchange(false)) {
    if (absl::StatusOr<uint64_t> n = store_->Sweep(); !n.ok()) {
      sweep_needed_.store(true);
    } else if (*n > 0) {
      log::Info("removed chunks no snapshot references", {{"chunks", *n}});
    }
  }
  if (health_changed_) health_changed_();
}

storage::SnapshotMeta Persistence::MetaOf(const core::Checkpoint& c) {
  storage::SnapshotMeta meta;
  meta.version = c.version;
  meta.time_unix_ms = absl::ToUnixMillis(absl::Now());
  meta.last_seq = c.last_seq;
  meta.events_applied = c.events_applied;
  meta.updates_skipped = c.updates_skipped;
  return meta;
}

absl::Status Persistence::Persist(model::Model& model, const core::Checkpoint& c,
                                  std::shared_ptr<core::PersistTicket> ticket) {
  const storage::SnapshotMeta meta = MetaOf(c);
  // Capture on the updater thread (a copy of the changed chunks), write on the storage
  // thread. Back-pressure: if the disk is two snapshots behind, wait here.
  auto pending = std::make_shared<storage::SnapshotStore::Pending>(
      store_->Capture(model, meta, c.metrics));
  executor_->BeginWrite([this, pending, ticket, last_seq = c.last_seq] {
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<uint64_t> written =
        store_->Write(std::move(*pending), options_.testing_before_manifest);
    write_seconds_.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    // The capture's chunk copies were many small blocks, which malloc keeps for reuse:
    // hand their pages back, so resident memory stays at the model's own size between
    // persists instead of growing by a copy of every changed chunk.
    malloc_trim(0);
    if (written.ok()) {
      bytes_written_.fetch_add(*written, std::memory_order_relaxed);
      // The log is needed after the oldest retained snapshot, and for its last
      // dedup_window events (the window is rebuilt from them at start).
      uint64_t keep_from = store_->OldestLastSeq() + 1;
      if (dedup_window_ > 0) {
        keep_from =
            std::min(keep_from, last_seq >= dedup_window_ ? last_seq + 1 - dedup_window_ : 1);
      }
      if (absl::Status t = log_->TruncateBefore(keep_from); !t.ok()) {
        log::Warning("truncating the event log failed", {{"error", std::string(t.message())}});
      }
    } else {
      NeedSweep();  // its chunks are orphans now
    }
    ticket->Complete(written.status());
  });
  return absl::OkStatus();
}

}  // namespace streamrec::server
