// ServerCore: the service's logic without any gRPC type, like TF Serving's ServerCore,
// and the wiring of its parts, each in its own unit:
//   Ingest        (server/ingest.h)         Observe up to the acknowledgement
//   core::Pipeline (server/core/pipeline.h) queue -> log writer -> updater -> snapshot slot
//   Ranker        (server/ranker.h)         Predict, on the served snapshot
//   Persistence   (server/persistence.h)    the data dir and the storage thread
//   Recovery      (server/recovery.h)       restore + replay at start
//   SnapshotAdmin (server/snapshot_admin.h) save, rollback, export, import
//   AssembleStats (server/stats_assembly.h) GetStats
// The gRPC services in server/*_service.h are thin adapters over it.
//
// Lifecycle: Create (validate, open the data dir, check the stored config) -> Recover
// (restore, replay, start the pipeline; until then Predict and Observe answer
// UNAVAILABLE; `cancel` stops it early) -> serve -> BeginStop (refuse new Observe calls
// and streams, end the open streams once their request in flight is acknowledged) ->
// Stop (drain, train, persist a final snapshot and wait for it to be written).
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
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "model/model_config.h"
#include "server/core/mutex.h"
#include "server/core/pipeline.h"
#include "server/core/snapshot_source.h"
#include "server/ingest.h"
#include "server/limits.h"
#include "server/request_converter.h"
#include "server/reward_join.h"
#include "storage/storage_options.h"
#include "server/stream_admission.h"
#include "server/stream_registry.h"
#include "server/vector_dims.h"
#include "streamrec/v1/admin.pb.h"
#include "streamrec/v1/streamrec.pb.h"

namespace streamrec::storage {
class ExportCursor;
class ImportSession;
}  // namespace streamrec::storage

namespace streamrec::server {

class Persistence;
class Ranker;
class SnapshotAdmin;

struct CoreOptions {
  model::ModelConfig model;
  // True when the operator gave no model config (no --model_config): a data dir that has
  // a stored config resumes with it, so a change of the built-in defaults never strands
  // an existing data dir; a new data dir gets `model` (the defaults).
  bool model_from_data_dir = false;
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
  storage::StorageOptions storage;
  // Impressions and joined rewards (server/reward_join.h).
  JoinOptions join;
  // Recover returns Cancelled soon after this becomes true (SIGTERM during startup).
  const std::atomic<bool>* cancel = nullptr;
};

class ServerCore {
 public:
  // Create validates the options and opens the data dir; FailedPrecondition when it
  // holds an incompatible model (unless start_fresh).
  static absl::StatusOr<std::unique_ptr<ServerCore>> Create(const CoreOptions& options);
  // The model config in effect (CoreOptions::model, or the data dir's stored one), and
  // whether it is the stored one.
  const model::ModelConfig& model_config() const { return model_config_; }
  bool model_config_from_data_dir() const;
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

  // Predict scores request's candidates with the current snapshot (server/ranker.h).
  // The gRPC handlers pass the requests' views (server/request_converter.h); the v1
  // overloads, for in-process callers, convert through the same views.
  absl::Status Predict(const ParsedPredict& request,
                       v1::PredictResponse& response);
  absl::Status Predict(const v1::PredictRequest& request, v1::PredictResponse& response);

  // Observe, PrepareObserve, TryEnqueue: server/ingest.h.
  void Observe(const ParsedObserve& request, v1::ObserveResponse& response,
               DoneFn done);
  void Observe(const v1::ObserveRequest& request, v1::ObserveResponse& response, DoneFn done);
  absl::StatusOr<std::unique_ptr<core::EventBatch>> PrepareObserve(
      const ParsedObserve& request, LoggedFn logged, bool count = true);
  bool TryEnqueue(std::unique_ptr<core::EventBatch>& batch);
  void Abandon(const core::EventBatch& batch) { ingest_->Abandon(batch); }

  // CountMalformedRequest counts a request whose bytes were not a valid message
  // (Stats.requests_malformed); the gRPC layer rejects it before any validation.
  void CountMalformedRequest() { requests_malformed_.fetch_add(1, std::memory_order_relaxed); }
  // streams admits ObserveStream calls, at most limits.max_concurrent_streams at once.
  StreamAdmission& streams() { return streams_; }
  // open_streams: the ObserveStreams open now, which BeginStop ends (stream_registry.h).
  StreamRegistry& open_streams() { return open_streams_; }

  // BeginStop: the first step of a stop, before the gRPC server shuts down. Ingest goes
  // NOT_SERVING, unary Observe calls are refused with UNAVAILABLE (SHUTTING_DOWN), new
  // streams too, and every open stream stops reading: it ends at once when between
  // requests, else once its request in flight is acknowledged, with UNAVAILABLE
  // (SHUTTING_DOWN) and the counts it acknowledged. Wait for them with
  // open_streams().WaitEmpty. Predict keeps answering. Idempotent.
  void BeginStop();
  bool stopping() const { return stopping_.load(); }

  void GetModelInfo(v1::ModelInfo& info) const;
  void GetStats(v1::Stats& stats) const;

  // Snapshot administration: server/snapshot_admin.h.
  using Cursor = std::shared_ptr<storage::ExportCursor>;
  using Session = std::shared_ptr<storage::ImportSession>;
  absl::Status ListSnapshots(v1::ListSnapshotsResponse& response) const;
  void SaveSnapshot(std::function<void(absl::StatusOr<uint64_t>)> done);
  void Rollback(uint64_t version, std::function<void(absl::StatusOr<uint64_t>)> done);
  absl::Status BeginAdminStream();
  void EndAdminStream();
  void StartExport(std::optional<uint64_t> version,
                   std::function<void(absl::StatusOr<Cursor>)> done);
  void ExportNext(Cursor cursor, size_t max_bytes,
                  std::function<void(absl::StatusOr<std::string>)> done);
  absl::StatusOr<Session> BeginImport();
  void ImportFeed(Session session, std::string piece, DoneFn done);
  void ImportFinish(Session session, std::function<void(absl::StatusOr<uint64_t>)> done);
  void ImportCancel(Session session);

  // Stop drains the queue, trains, publishes, persists and stops. Idempotent.
  void Stop();
  // final_persist_status: whether the final snapshot was written (after Stop).
  absl::Status final_persist_status() const;

  // For /metrics (server/metrics/), beyond GetStats: the updater's histograms and the
  // storage (null without a data dir; its write_seconds(), bytes_written() and
  // db().EstimateSizes() are thread-safe). Valid until the core is destroyed.
  const core::UpdaterHistograms& updater_histograms() const {
    return pipeline_->updater().histograms();
  }
  const Persistence* persistence() const { return persistence_.get(); }

  core::EventQueue& queue() { return pipeline_->queue(); }
  core::Updater& updater() { return pipeline_->updater(); }
  const CoreOptions& options() const { return options_; }

 private:
  explicit ServerCore(const CoreOptions& options);
  void ReportIngest();

  const CoreOptions options_;
  model::ModelConfig model_config_;  // in effect: options_.model or the stored one
  VectorDims dims_;
  RequestConverter converter_;  // dense fields declared in Create, then const
  std::atomic<bool> ready_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> stopping_{false};
  std::unique_ptr<Persistence> persistence_;  // null without a data dir
  std::unique_ptr<Ingest> ingest_;
  std::unique_ptr<core::Pipeline> pipeline_;
  // Where serving (Predict, GetModelInfo) gets its snapshot: the one place a replica
  // role swaps the local updater's slot for a source fed by a parameter stream.
  const core::SnapshotSource* served_ = nullptr;
  // Impressions: in the data dir's impressions family (null when it has none), or in
  // memory without a data dir.
  std::unique_ptr<storage::ImpressionStore> impressions_;
  std::unique_ptr<RewardJoin> join_;
  std::unique_ptr<Ranker> ranker_;
  std::unique_ptr<SnapshotAdmin> admin_;
  StreamAdmission streams_;
  StreamRegistry open_streams_;
  std::atomic<uint64_t> requests_malformed_{0};

  core::Mutex ingest_mu_;
  std::function<void(bool)> ingest_listener_ ABSL_GUARDED_BY(ingest_mu_);
  int ingest_reported_ ABSL_GUARDED_BY(ingest_mu_) = -1;  // unknown
};

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_SERVER_CORE_H_
