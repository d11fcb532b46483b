// ObserveStreamReactor: one ObserveStream call, on raw frames (grpc::ByteBuffer). Reads
// one request, parses it (an unparseable frame ends the stream with INVALID_ARGUMENT and
// is counted), enqueues its events (parking while the queue is full), writes the
// acknowledgement once they are logged, then reads the next: one request in flight, so
// the stream's order is kept and its memory bounded. Requests acknowledged before an
// error stay accepted.
//
// Stop (StopReading, from ServerCore::BeginStop): the stream starts no new read. Between
// requests (a read outstanding) it finishes at once; with a request in flight it finishes
// that one (logged and acknowledged, or refused) and then finishes. Either way the status
// is UNAVAILABLE (SHUTTING_DOWN) "the server is shutting down; N requests (M events) of
// this stream were acknowledged", with the trailing metadata
// streamrec-acknowledged-requests and streamrec-acknowledged-events. A request read after
// the stop began is refused unlogged (it is not among the acknowledged). So what a client
// saw acknowledged is exactly what was logged.
//
// Owned by gRPC: created by RecommenderService::ObserveStream once it has taken a slot
// of core->streams(); registers in core->open_streams(); gives both back and deletes
// itself in OnDone. Its callbacks run on gRPC threads, the log writer's thread
// (acknowledgement) or the updater's (room freed), one at a time; StopReading on the
// stopping thread, under mu_ like the phase changes. Never blocks for long.
#ifndef STREAMREC_SERVER_OBSERVE_STREAM_H_
#define STREAMREC_SERVER_OBSERVE_STREAM_H_

#include <cstdint>
#include <memory>

#include "google/protobuf/arena.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/server_callback.h"
#include "server/core/mutex.h"
#include "server/raw_message.h"
#include "server/server_core.h"
#include "server/stream_registry.h"
#include "streamrec/v1/streamrec.pb.h"

namespace grpc {
class CallbackServerContext;
}

namespace streamrec::server {

// Trailing metadata of a stream ended by a stop: what it had acknowledged.
inline constexpr char kAcknowledgedRequestsKey[] = "streamrec-acknowledged-requests";
inline constexpr char kAcknowledgedEventsKey[] = "streamrec-acknowledged-events";

class ObserveStreamReactor final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>,
      public StoppableStream {
 public:
  ObserveStreamReactor(ServerCore* core, grpc::CallbackServerContext* context);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override;
  void StopReading() override;

 private:
  enum class Phase {
    kReading,   // a read is outstanding (or about to be started)
    kBusy,      // a request is in flight: parsed, enqueued, logged, acknowledgement written
    kFinished,  // Finish was called
  };

  // Enqueue converts the request, reserves its bytes and pushes it, parking until the
  // updater frees room when the queue is full (by bytes: the converted batch is dropped
  // while waiting and converted again; by events: the batch waits, its bytes counted).
  // Runs on a gRPC thread, or on the updater thread when woken; never blocks.
  void Enqueue();
  // OnLogged acknowledges once logged (log writer thread); then the next read starts.
  void OnLogged(const absl::Status& s, size_t duplicates);
  // End finishes with `status` (from kBusy); FinishLocked from any phase but kFinished.
  void End(const grpc::Status& status);
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // FinishStoppedLocked: the stop's status, with the counts, and counts the stream ended.
  void FinishStoppedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  ServerCore* const core_;
  grpc::CallbackServerContext* const context_;
  grpc::ByteBuffer raw_request_;
  grpc::ByteBuffer raw_response_;
  // The request being handled, until the next read: its bytes, and it parsed (views
  // into bytes_).
  RequestBytes bytes_;
  ParsedObserve request_;
  std::unique_ptr<core::EventBatch> pending_;
  size_t accepted_ = 0;
  bool prepared_ = false;  // the current request was counted once
  bool registered_ = false;

  core::Mutex mu_;
  Phase phase_ ABSL_GUARDED_BY(mu_) = Phase::kReading;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t acked_requests_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t acked_events_ ABSL_GUARDED_BY(mu_) = 0;
};

// RefusedStreamReactor: finishes an ObserveStream call at once with `status` (e.g.
// too many streams open), reading nothing. Owned by gRPC; deletes itself in OnDone.
class RefusedStreamReactor final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit RefusedStreamReactor(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_OBSERVE_STREAM_H_
