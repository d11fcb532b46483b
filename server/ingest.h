// Ingest: the path of an Observe request up to its acknowledgement. Admission (validate
// and convert, refuse while not ready or while storage cannot take writes, reserve the
// queue's bytes and places), then, on the log writer's thread, registration of new vector
// fields in log order and the durable append (through storage::EventLog, which numbers
// the events), and the acknowledgement counted as accepted or rejected by reason.
//
// Threads: PrepareObserve, TryEnqueue, Observe, counters() from any thread (gRPC
// handlers); Admit, GroupDone and Append from the log writer's thread only (they are the
// LogWriter's hooks; after the writer has stopped, the updater's final flush marker calls
// GroupDone and Append from the updater's thread); Attach once, before traffic.
#ifndef STREAMREC_SERVER_INGEST_H_
#define STREAMREC_SERVER_INGEST_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "server/core/event_queue.h"
#include "server/request_converter.h"
#include "server/vector_dims.h"
#include "streamrec/v1/streamrec.pb.h"

namespace streamrec::storage {
class EventLog;
}

namespace streamrec::server {

using DoneFn = std::function<void(const absl::Status&)>;
// LoggedCounts: of a logged request's events, how many were dropped as duplicates of a
// recent event_id (acknowledged, not logged or trained again), and how many rewards were
// joined with their impression or dropped (server/reward_join.h).
struct LoggedCounts {
  size_t duplicates = 0;
  size_t rewards_joined = 0;
  size_t rewards_dropped = 0;
};
// LoggedFn: the outcome of logging a request's batch, and its counts.
using LoggedFn = std::function<void(const absl::Status&, const LoggedCounts&)>;
class RewardJoin;

struct IngestOptions {
  size_t queue_max_bytes = size_t{256} << 20;
  size_t max_vector_fields = 10000;
  std::chrono::milliseconds storage_retry{1000};  // for the message of a storage refusal
};

// Rejection reasons of GetStats.events_rejected.
enum class Reject { kInvalid, kQueueFull, kQueueBytesFull, kUnavailable, kStorage, kCount };
const char* RejectName(Reject reason);

class Ingest {
 public:
  // `ready` says whether the server has recovered; `storage` (may be empty) returns OK
  // while storage takes writes, else why not; `log` (may be null: no data dir) is where
  // events go.
  Ingest(const IngestOptions& options, const RequestConverter* converter, VectorDims* dims,
         const std::atomic<bool>* ready, std::function<absl::Status()> storage,
         storage::EventLog* log);

  // Attach: the queue requests enter (the pipeline's), and the join whose store writes
  // go with each append (may be null).
  void Attach(core::EventQueue* queue, RewardJoin* join) {
    queue_ = queue;
    join_ = join;
  }
  // SetStopping: the server is shutting down; from now on Observe (unary) refuses every
  // request with UNAVAILABLE (SHUTTING_DOWN), counted as rejected `unavailable`. Streams
  // are stopped by their reactors (server/observe_stream.h), which still finish the
  // request they have in flight.
  void SetStopping() { stopping_.store(true); }

  // Observe: the unary call. Validates and enqueues a whole request, or nothing; `done`
  // runs once: OK after the events are logged (response filled), ResourceExhausted when
  // the queue has no room, InvalidArgument for bad input, Unavailable while recovering
  // or while storage is not writable, or (SHUTTING_DOWN) once the server is stopping.
  // Takes the request's view (server/request_converter.h); the v1 overloads go through it.
  void Observe(const ParsedObserve& request, v1::ObserveResponse& response,
               DoneFn done);
  void Observe(const v1::ObserveRequest& request, v1::ObserveResponse& response, DoneFn done);
  // For streams: PrepareObserve validates and converts, and arranges for `logged` to run
  // with the outcome (and the duplicates dropped) once the batch is logged (or refused at
  // logging). `count` is false
  // when the same request is prepared again (after waiting for room). Then
  // queue.ReserveBytes, then TryEnqueue (false: no room now; wait with
  // queue.AddSpaceWaiter and retry).
  absl::StatusOr<std::unique_ptr<core::EventBatch>> PrepareObserve(
      const ParsedObserve& request, LoggedFn logged, bool count = true);
  absl::StatusOr<std::unique_ptr<core::EventBatch>> PrepareObserve(
      const v1::ObserveRequest& request, LoggedFn logged, bool count = true);
  bool TryEnqueue(std::unique_ptr<core::EventBatch>& batch) { return queue_->TryPush(batch); }
  // Abandon counts a prepared batch that will never be enqueued (its stream ended before
  // its turn) as rejected: unavailable.
  void Abandon(const core::EventBatch& batch) {
    CountRejected(Reject::kUnavailable, batch.examples.size());
  }

  // The LogWriter's hooks (log writer thread).
  absl::Status Admit(core::EventBatch& batch);
  void GroupDone(const absl::Status& status);
  absl::StatusOr<uint64_t> Append(const std::vector<core::EventBatch*>& group);

  struct Counters {
    uint64_t received = 0;
    uint64_t accepted = 0;
    uint64_t rejected[static_cast<int>(Reject::kCount)] = {};
  };
  Counters counters() const;

 private:
  void CountRejected(Reject reason, size_t events);

  const IngestOptions options_;
  const RequestConverter* const converter_;
  VectorDims* const dims_;
  const std::atomic<bool>* const ready_;
  const std::function<absl::Status()> storage_;
  storage::EventLog* const log_;
  core::EventQueue* queue_ = nullptr;
  RewardJoin* join_ = nullptr;
  std::atomic<bool> stopping_{false};

  // Log writer thread only: vector fields admitted in the group being logged.
  absl::flat_hash_map<std::string, uint32_t> pending_dims_;

  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> rejected_[static_cast<int>(Reject::kCount)] = {};
};

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_INGEST_H_
