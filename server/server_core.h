// ServerCore: the service's logic without any gRPC type, like TF Serving's ServerCore.
// Owns the event pipeline (queue -> log writer -> updater -> served snapshot) and, with
// a data dir, the RocksDB database, event log, metadata and snapshot store, and the
// storage thread (server/storage_executor.h). The gRPC services in server/*_service.h
// are thin adapters over it.
//
// Lifecycle: Create (validate, open the database, check the stored config) -> Recover
// (restore the newest good snapshot, replay the log after it, start the pipeline;
// until then Predict and Observe answer UNAVAILABLE; `cancel` stops it early) -> serve
// -> Stop (drain, train, persist a final snapshot, wait for it to be written).
//
// Ingest health: while the data dir cannot be written (disk full, I/O errors), Observe
// answers UNAVAILABLE without queueing; the storage thread retries every
// recovery_interval and resumes by itself. Predict is unaffected. The listener set with
// SetIngestListener hears every change.
//
// Thread-safe: every public method may be called from any gRPC handler thread. Predict
// never waits for training; Observe's `done` runs when the events are durable (on the
// log writer's thread), never after training.
#ifndef STREAMREC_SERVER_SERVER_CORE_H_
#define STREAMREC_SERVER_SERVER_CORE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "model/model_config.h"
#include "server/core/mutex.h"
#include "server/core/pipeline.h"
#include "server/limits.h"
#include "server/request_converter.h"
#include "server/storage_executor.h"
#include "server/stream_admission.h"
#include "server/vector_dims.h"
#include "streamrec/v1/admin.pb.h"
#include "streamrec/v1/streamrec.pb.h"

namespace rocksdb {
class FileSystem;
}

namespace streamrec::storage {
class Database;
class EventLog;
class ExportCursor;
class ImportSession;
class MetaStore;
class SnapshotStore;
struct Manifest;
struct ImportTarget;
}  // namespace streamrec::storage

namespace streamrec::server {

// Durability of acknowledged events (README "Durability").
enum class Durability { kNone, kAsync, kSync };

struct StorageOptions {
  // Where the database lives; empty keeps everything in memory (tests).
  std::string data_dir;
  Durability durability = Durability::kAsync;
  size_t snapshots_retained = 5;
  // Discard a data dir written with an incompatible configuration instead of refusing.
  bool start_fresh = false;
  // Start even when the data dir's snapshots are unreadable or the log has a gap, losing
  // what they held (the operator's explicit decision; refused otherwise).
  bool accept_data_loss = false;
  // How often an unwritable data dir is retried.
  std::chrono::milliseconds recovery_interval{1000};
  // The file system RocksDB uses (null: the OS's). Tests inject faults through it.
  std::shared_ptr<rocksdb::FileSystem> file_system;
  // Tests: runs between a snapshot's chunks and its manifest (crash-point injection).
  std::function<void()> testing_before_manifest;
};

struct CoreOptions {
  model::ModelConfig model;
  Limits limits;
  size_t queue_capacity = 100000;
  // Bytes of converted events held between the handlers and the model.
  size_t queue_max_bytes = size_t{256} << 20;
  // Distinct vector fields the server registers (each fixes a dimension).
  size_t max_vector_fields = 10000;
  // Export and import streams open at once.
  int max_admin_streams = 2;
  core::UpdaterOptions updater;
  // Event ids remembered for de-duplication (0: off).
  size_t dedup_window = 0;
  StorageOptions storage;
  // Recover returns Cancelled soon after this becomes true (SIGTERM during startup).
  const std::atomic<bool>* cancel = nullptr;
};

using DoneFn = std::function<void(const absl::Status&)>;

class ServerCore {
 public:
  // Create validates the options and opens the data dir; FailedPrecondition when it
  // holds an incompatible model (unless start_fresh).
  static absl::StatusOr<std::unique_ptr<ServerCore>> Create(const CoreOptions& options);
  ~ServerCore();  // Stop()

  // SetIngestListener: `listener(serving)` runs whenever ingest readiness changes (from
  // the storage thread, or from Recover/Stop). Call before Recover.
  void SetIngestListener(std::function<void(bool)> listener);

  // Recover restores state and starts the pipeline. Call once, before serving traffic.
  // FailedPrecondition when the data dir cannot be resumed without losing acknowledged
  // events; Cancelled when options.cancel was set meanwhile.
  absl::Status Recover();
  bool ready() const { return ready_.load(); }
  // ingest_ready: ready and the data dir writable.
  bool ingest_ready() const;

  // Predict scores request's candidates with the current snapshot.
  absl::Status Predict(const v1::PredictRequest& request, v1::PredictResponse& response);

  // Observe validates and enqueues a whole request, or nothing, and calls done once:
  // OK after the events are logged (response filled), ResourceExhausted when the queue
  // has no room, InvalidArgument for bad input, Unavailable while recovering or while
  // storage is not writable.
  void Observe(const v1::ObserveRequest& request, v1::ObserveResponse& response, DoneFn done);

  // For streams: PrepareObserve validates and converts, and arranges for `logged` to run
  // with the outcome once the batch is logged (or refused at logging). `count` is false
  // when the same request is prepared again (after waiting for room), so it is counted
  // once. Then: queue().ReserveBytes, then TryEnqueue (false: no room now; wait with
  // queue().AddSpaceWaiter and retry).
  absl::StatusOr<std::unique_ptr<core::EventBatch>> PrepareObserve(
      const v1::ObserveRequest& request, DoneFn logged, bool count = true);
  bool TryEnqueue(std::unique_ptr<core::EventBatch>& batch);

  // CountMalformedRequest counts a request whose bytes were not a valid message
  // (Stats.requests_malformed); the gRPC layer rejects it before any validation.
  void CountMalformedRequest() { requests_malformed_.fetch_add(1, std::memory_order_relaxed); }

  // streams admits ObserveStream calls, at most limits.max_concurrent_streams at once.
  StreamAdmission& streams() { return streams_; }

  void GetModelInfo(v1::ModelInfo& info) const;
  void GetStats(v1::Stats& stats) const;

  // Snapshot administration (FailedPrecondition without a data dir). The callbacks run
  // on the updater thread or the storage thread; none blocks the caller.
  absl::Status ListSnapshots(v1::ListSnapshotsResponse& response) const;
  void SaveSnapshot(std::function<void(absl::StatusOr<uint64_t>)> done);
  void Rollback(uint64_t version, std::function<void(absl::StatusOr<uint64_t>)> done);

  // Admin streams: at most max_admin_streams at once (ResourceExhausted beyond).
  absl::Status BeginAdminStream();
  void EndAdminStream();

  // Export: StartExport gives a cursor over snapshot `version` (none: persist now and
  // export that); ExportNext reads its next piece on the storage thread (empty: done).
  using Cursor = std::shared_ptr<storage::ExportCursor>;
  void StartExport(std::optional<uint64_t> version,
                   std::function<void(absl::StatusOr<Cursor>)> done);
  void ExportNext(Cursor cursor, size_t max_bytes,
                  std::function<void(absl::StatusOr<std::string>)> done);
  // Import: BeginImport opens a session; ImportFeed writes a piece on the storage thread;
  // ImportFinish verifies the file, swaps it in under a new version and persists it.
  using Session = std::shared_ptr<storage::ImportSession>;
  absl::StatusOr<Session> BeginImport();
  void ImportFeed(Session session, std::string piece, DoneFn done);
  void ImportFinish(Session session, std::function<void(absl::StatusOr<uint64_t>)> done);
  // ImportCancel abandons a session whose client went away.
  void ImportCancel(Session session);

  // Stop drains the queue, trains, publishes, persists and stops. Idempotent.
  void Stop();
  // final_persist_status: whether the final snapshot was written (after Stop).
  absl::Status final_persist_status() const;

  core::EventQueue& queue() { return pipeline_->queue(); }
  core::Updater& updater() { return pipeline_->updater(); }
  const CoreOptions& options() const { return options_; }

 private:
  enum class Reject { kInvalid, kQueueFull, kQueueBytesFull, kUnavailable, kStorage };

  explicit ServerCore(const CoreOptions& options);
  absl::Status OpenStorage();
  absl::Status RecoverSnapshot(uint64_t& last_seq);
  absl::Status ReplayLog(uint64_t& last_seq, std::vector<std::string>& recent_ids);
  void CountRejected(Reject reason, size_t events);
  std::string NextPredictionId();
  // Log writer hooks: vector-field registration in log order, and the append.
  absl::Status AdmitBatch(core::EventBatch& batch);
  void GroupDone(const absl::Status& status);
  absl::Status AppendToLog(uint64_t first_seq, const std::vector<core::EventBatch*>& group);
  absl::Status Persist(model::Model& model, const core::Checkpoint& checkpoint,
                       std::shared_ptr<core::PersistTicket> ticket);
  // StorageTick: on the storage thread while idle: recover an unwritable data dir, sweep
  // after failures, report ingest health changes.
  void StorageTick();
  // SwapIn makes `source` (a retained snapshot, a staged import) the model's state, on
  // the updater thread: verified, written as a new snapshot, loaded, then published under
  // that snapshot's version. Returns the version; on error nothing changed.
  absl::StatusOr<uint64_t> SwapIn(const storage::Manifest& source);
  void ReportIngest();

  const CoreOptions options_;
  VectorDims dims_;
  const RequestConverter converter_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::MetaStore> meta_;
  std::unique_ptr<storage::EventLog> log_;
  std::unique_ptr<storage::SnapshotStore> store_;
  std::unique_ptr<storage::ImportTarget> import_target_;
  std::unique_ptr<StorageExecutor> executor_;
  std::unique_ptr<core::Pipeline> pipeline_;
  const std::string prediction_prefix_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> sweep_needed_{false};
  std::chrono::steady_clock::time_point next_recovery_log_;  // storage thread only

  // Log writer thread only: vector fields admitted in the group being logged.
  absl::flat_hash_map<std::string, uint32_t> pending_dims_;

  core::Mutex ingest_mu_;
  std::function<void(bool)> ingest_listener_ ABSL_GUARDED_BY(ingest_mu_);
  int ingest_reported_ ABSL_GUARDED_BY(ingest_mu_) = -1;  // unknown

  std::atomic<int> admin_streams_{0};
  std::atomic<uint64_t> prediction_counter_{0};
  std::atomic<uint64_t> predict_requests_{0};
  std::atomic<uint64_t> candidates_scored_{0};
  std::atomic<uint64_t> events_received_{0};
  std::atomic<uint64_t> events_accepted_{0};
  std::atomic<uint64_t> rejected_[5] = {};
  std::atomic<uint64_t> requests_malformed_{0};
  StreamAdmission streams_;
};

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_SERVER_CORE_H_
