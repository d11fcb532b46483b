// ServerCore: the service's logic without any gRPC type, like TF Serving's ServerCore.
// Owns the event queue, the updater and the served snapshot; the gRPC services in
// server/*_service.h are thin adapters over it. Thread-safe: every public method may be
// called from any gRPC handler thread at once. Predict never waits for training.
#ifndef STREAMREC_SERVER_SERVER_CORE_H_
#define STREAMREC_SERVER_SERVER_CORE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "model/model_config.h"
#include "server/core/event_queue.h"
#include "server/core/snapshot_slot.h"
#include "server/core/updater.h"
#include "server/limits.h"
#include "server/request_converter.h"
#include "server/vector_dims.h"
#include "streamrec/v1/admin.pb.h"
#include "streamrec/v1/streamrec.pb.h"

namespace streamrec::server {

struct CoreOptions {
  model::ModelConfig model;
  Limits limits;
  size_t queue_capacity = 100000;
  core::UpdaterOptions updater;
};

class ServerCore {
 public:
  // Create validates the options and starts the updater.
  static absl::StatusOr<std::unique_ptr<ServerCore>> Create(const CoreOptions& options);
  ~ServerCore();  // Stops the updater after training what was queued.

  // Predict scores request's candidates with the current snapshot.
  absl::Status Predict(const v1::PredictRequest& request, v1::PredictResponse& response);

  // Observe validates and enqueues a whole request, or nothing: ResourceExhausted when
  // the queue has no room for all of it.
  absl::Status Observe(const v1::ObserveRequest& request, v1::ObserveResponse& response);

  // For streams: PrepareObserve validates and converts; TryEnqueue then pushes (false:
  // no room now, wait with queue().AddSpaceWaiter and retry).
  absl::StatusOr<std::unique_ptr<core::EventBatch>> PrepareObserve(
      const v1::ObserveRequest& request);
  bool TryEnqueue(std::unique_ptr<core::EventBatch>& batch);

  void GetModelInfo(v1::ModelInfo& info) const;
  void GetStats(v1::Stats& stats) const;

  // Stop drains the queue, publishes and stops the updater. Idempotent.
  void Stop();

  core::EventQueue& queue() { return queue_; }
  core::Updater& updater() { return *updater_; }
  const CoreOptions& options() const { return options_; }

 private:
  ServerCore(const CoreOptions& options, std::unique_ptr<model::Model> model);
  void CountRejected(const absl::Status& status, size_t events);
  std::string NextPredictionId();

  const CoreOptions options_;
  VectorDims dims_;
  const RequestConverter converter_;
  core::EventQueue queue_;
  core::SnapshotSlot slot_;
  std::unique_ptr<core::Updater> updater_;
  const std::string prediction_prefix_;

  std::atomic<uint64_t> prediction_counter_{0};
  std::atomic<uint64_t> predict_requests_{0};
  std::atomic<uint64_t> candidates_scored_{0};
  std::atomic<uint64_t> events_received_{0};
  std::atomic<uint64_t> events_accepted_{0};
  std::atomic<uint64_t> rejected_invalid_{0};
  std::atomic<uint64_t> rejected_queue_full_{0};
};

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_SERVER_CORE_H_
