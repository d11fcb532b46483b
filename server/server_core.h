// ServerCore: the service's logic without any gRPC type, like TF Serving's ServerCore.
// Owns the event pipeline (queue -> log writer -> updater -> served snapshot) and, with
// a data dir, the RocksDB database, event log and snapshot store. The gRPC services in
// server/*_service.h are thin adapters over it.
//
// Lifecycle: Create (validate, open the database, check the stored config) -> Recover
// (restore the newest good snapshot, replay the log after it, start the pipeline;
// until then Predict and Observe answer UNAVAILABLE) -> serve -> Stop (drain, train,
// persist a final snapshot).
//
// Thread-safe: every public method may be called from any gRPC handler thread. Predict
// never waits for training; Observe's `done` runs when the events are durable (on the
// log writer's thread), never after training.
#ifndef STREAMREC_SERVER_SERVER_CORE_H_
#define STREAMREC_SERVER_SERVER_CORE_H_

#include <atomic>
#include <deque>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "model/model_config.h"
#include "server/core/mutex.h"
#include "server/core/pipeline.h"
#include "server/limits.h"
#include "server/request_converter.h"
#include "server/stream_admission.h"
#include "server/vector_dims.h"
#include "storage/database.h"
#include "storage/event_log.h"
#include "storage/snapshot_store.h"
#include "streamrec/v1/admin.pb.h"
#include "streamrec/v1/streamrec.pb.h"

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
  // Tests: runs between a snapshot's chunks and its manifest (crash-point injection).
  std::function<void()> testing_before_manifest;
};

struct CoreOptions {
  model::ModelConfig model;
  Limits limits;
  size_t queue_capacity = 100000;
  core::UpdaterOptions updater;
  // Event ids remembered for de-duplication (0: off).
  size_t dedup_window = 0;
  StorageOptions storage;
};

using DoneFn = std::function<void(const absl::Status&)>;

class ServerCore {
 public:
  // Create validates the options and opens the data dir; FailedPrecondition when it
  // holds an incompatible model (unless start_fresh).
  static absl::StatusOr<std::unique_ptr<ServerCore>> Create(const CoreOptions& options);
  ~ServerCore();  // Stop()

  // Recover restores state and starts the pipeline. Call once, before serving traffic.
  absl::Status Recover();
  bool ready() const { return ready_.load(); }

  // Predict scores request's candidates with the current snapshot.
  absl::Status Predict(const v1::PredictRequest& request, v1::PredictResponse& response);

  // Observe validates and enqueues a whole request, or nothing, and calls done once:
  // OK after the events are logged (response filled), ResourceExhausted when the queue
  // has no room, InvalidArgument for bad input, Unavailable while recovering.
  void Observe(const v1::ObserveRequest& request, v1::ObserveResponse& response, DoneFn done);

  // For streams: PrepareObserve validates and converts; TryEnqueue pushes (false: no
  // room now; wait with queue().AddSpaceWaiter and retry). Set batch->on_logged first.
  absl::StatusOr<std::unique_ptr<core::EventBatch>> PrepareObserve(
      const v1::ObserveRequest& request);
  bool TryEnqueue(std::unique_ptr<core::EventBatch>& batch);

  // CountMalformedRequest counts a request whose bytes were not a valid message
  // (Stats.requests_malformed); the gRPC layer rejects it before any validation.
  void CountMalformedRequest() { requests_malformed_.fetch_add(1, std::memory_order_relaxed); }

  // streams admits ObserveStream calls, at most limits.max_concurrent_streams at once.
  StreamAdmission& streams() { return streams_; }

  void GetModelInfo(v1::ModelInfo& info) const;
  void GetStats(v1::Stats& stats) const;

  // Snapshot administration (FailedPrecondition without a data dir). The callbacks run
  // on the updater thread or a background thread; none blocks the caller.
  absl::Status ListSnapshots(v1::ListSnapshotsResponse& response) const;
  void SaveSnapshot(std::function<void(absl::StatusOr<uint64_t>)> done);
  void Rollback(uint64_t version, std::function<void(absl::StatusOr<uint64_t>)> done);
  void ExportSnapshot(uint64_t version, std::function<void(absl::StatusOr<std::string>)> done);
  void ImportSnapshot(std::string file, std::function<void(absl::StatusOr<uint64_t>)> done);

  // Stop drains the queue, trains, publishes, persists and stops. Idempotent.
  void Stop();

  core::EventQueue& queue() { return pipeline_->queue(); }
  core::Updater& updater() { return pipeline_->updater(); }
  const CoreOptions& options() const { return options_; }

 private:
  explicit ServerCore(const CoreOptions& options);
  absl::Status OpenStorage();
  void CountRejected(const absl::Status& status, size_t events);
  std::string NextPredictionId();
  absl::Status AppendToLog(uint64_t first_seq, const std::vector<core::EventBatch*>& group);
  absl::Status Persist(model::Model& model, const core::Checkpoint& checkpoint);
  absl::Status SaveVectorDims();
  // The storage thread runs snapshot writes (each followed by log truncation and
  // compaction), snapshot exports and completion callbacks, in FIFO order, off the
  // updater and gRPC threads. Enqueue never blocks; Persist waits (pausing training)
  // only while two snapshot writes are already pending.
  void RunStorageThread();
  void EnqueueStorageTask(std::function<void()> task);
  // WaitStorageIdle blocks until every queued storage task has run.
  void WaitStorageIdle();
  // AfterWrite calls done with `version` once the snapshot write PersistNow queued has
  // finished (or with its error).
  void AfterWrite(absl::StatusOr<uint64_t> version,
                  std::function<void(absl::StatusOr<uint64_t>)> done);

  const CoreOptions options_;
  VectorDims dims_;
  const RequestConverter converter_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::EventLog> log_;
  std::unique_ptr<storage::SnapshotStore> store_;
  std::unique_ptr<core::Pipeline> pipeline_;
  const std::string prediction_prefix_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> stopped_{false};
  // Storage thread state.
  core::Mutex storage_mu_;
  std::condition_variable_any storage_cv_;
  std::deque<std::function<void()>> storage_tasks_ ABSL_GUARDED_BY(storage_mu_);
  bool storage_busy_ ABSL_GUARDED_BY(storage_mu_) = false;
  bool storage_stop_ ABSL_GUARDED_BY(storage_mu_) = false;
  int pending_writes_ ABSL_GUARDED_BY(storage_mu_) = 0;
  absl::Status last_write_status_ ABSL_GUARDED_BY(storage_mu_);
  std::thread storage_thread_;
  // Written snapshots (not just captured), for GetStats.
  std::atomic<uint64_t> written_version_{0};
  std::atomic<uint64_t> snapshots_written_{0};
  std::atomic<uint64_t> snapshot_write_failures_{0};
  // Serializes SaveVectorDims so a newer list is never overwritten by an older one.
  core::Mutex dims_save_mu_;


  std::atomic<uint64_t> prediction_counter_{0};
  std::atomic<uint64_t> predict_requests_{0};
  std::atomic<uint64_t> candidates_scored_{0};
  std::atomic<uint64_t> events_received_{0};
  std::atomic<uint64_t> events_accepted_{0};
  std::atomic<uint64_t> rejected_invalid_{0};
  std::atomic<uint64_t> rejected_queue_full_{0};
  std::atomic<uint64_t> rejected_unavailable_{0};
  std::atomic<uint64_t> requests_malformed_{0};
  StreamAdmission streams_;
};

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_SERVER_CORE_H_
