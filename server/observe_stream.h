// ObserveStreamReactor: one ObserveStream call, on raw frames (grpc::ByteBuffer). Reads
// a request, parses it (an unparseable frame ends the stream with INVALID_ARGUMENT and
// is counted), enqueues its events (parking while the queue is full), and writes the
// acknowledgement once they are logged. One request is in the log at a time, so the
// stream's order is kept, and what a client saw acknowledged is exactly what was logged;
// but once a request is enqueued the next one is read, parsed and converted (held, not
// enqueued) while the first is being logged: the stream's throughput is not the sum of
// both latencies. At most two requests are held (one in the log, one prepared), so the
// memory is bounded. A held request that turns out invalid ends the stream only after
// the one before it is acknowledged. Requests acknowledged before an error stay accepted.
//
// Stop (StopReading, from ServerCore::BeginStop): the stream starts no new read. With
// nothing in flight (a read outstanding) it finishes at once; with a request in the log
// it finishes that one (logged and acknowledged, or refused) and then finishes; a
// prepared request behind it is refused unlogged (counted rejected, unavailable). Either
// way the status is UNAVAILABLE (SHUTTING_DOWN) "the server is shutting down; N requests
// (M events) of this stream were acknowledged", with the trailing metadata
// streamrec-acknowledged-requests and streamrec-acknowledged-events. A request read after
// the stop began is refused unlogged (it is not among the acknowledged). So what a client
// saw acknowledged is exactly what was logged.
//
// Owned by gRPC: created by RecommenderService::ObserveStream once it has taken a slot
// of core->streams(); registers in core->open_streams(); gives both back and deletes
// itself in OnDone. Its callbacks run on gRPC threads, the log writer's thread
// (acknowledgement) or the updater's (room freed); the request in the log and the one
// read ahead are handled concurrently, each by one callback at a time, and handed over
// under mu_. StopReading on the stopping thread, under mu_ like the phase changes.
// Never blocks for long.
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
    kReading,   // a read is outstanding (or about to be started), nothing in flight
    kBusy,      // a request is in flight: parsed, enqueued, logged, acknowledgement written
    kFinished,  // Finish was called
  };
  // The request behind the one in flight (kBusy only).
  enum class Ahead {
    kNone,       // not read yet (the read starts once the one in flight is enqueued)
    kReading,    // its read is outstanding
    kPreparing,  // read: being parsed and converted
    kHeld,       // prepared (next_), or refused (next_error_), waiting for its turn
  };

  // Enqueue converts the request, reserves its bytes and pushes it, parking until the
  // updater frees room when the queue is full (by bytes: the converted batch is dropped
  // while waiting and converted again; by events: the batch waits, its bytes counted).
  // Runs on a gRPC thread, or on the updater thread when woken; never blocks.
  void Enqueue();
  // OnLogged acknowledges once logged (log writer thread); then the next read starts.
  void OnLogged(const absl::Status& s, const LoggedCounts& counts);
  // StartReadAhead: the request in flight is enqueued: read the next one.
  void StartReadAhead();
  // ReadAhead parses and converts the request read ahead into next_ (or next_error_),
  // then holds it, or starts it if the one before was acknowledged meanwhile.
  void ReadAhead();
  // Advance starts the held request (the one before it acknowledged): enqueues it, or
  // ends the stream with its error.
  void Advance();
  // Prepare: request_ converted into a batch whose acknowledgement is OnLogged.
  absl::StatusOr<std::unique_ptr<core::EventBatch>> Prepare(bool count);
  // End finishes with `status` (from kBusy); FinishLocked from any phase but kFinished.
  void End(const grpc::Status& status);
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // FinishStoppedLocked: the stop's status, with the counts, and counts the stream ended.
  void FinishStoppedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  ServerCore* const core_;
  grpc::CallbackServerContext* const context_;
  grpc::ByteBuffer raw_request_;
  grpc::ByteBuffer raw_response_;
  // The last request read, until the next read: its bytes, and it parsed (views into
  // bytes_). The request in flight needs it until it is enqueued (a byte wait converts
  // again); only then is the next one read into it.
  RequestBytes bytes_;
  ParsedObserve request_;
  std::unique_ptr<core::EventBatch> pending_;  // in flight, until enqueued
  size_t accepted_ = 0;                        // events of the request in flight
  bool prepared_ = false;  // the request in flight was counted once
  bool registered_ = false;

  core::Mutex mu_;
  Phase phase_ ABSL_GUARDED_BY(mu_) = Phase::kReading;
  Ahead ahead_ ABSL_GUARDED_BY(mu_) = Ahead::kNone;
  bool acked_ ABSL_GUARDED_BY(mu_) = false;  // the one in flight was acknowledged
  bool half_closed_ ABSL_GUARDED_BY(mu_) = false;  // the read ahead found the client done
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // The request read ahead, prepared (counted), or its error (already counted).
  std::unique_ptr<core::EventBatch> next_ ABSL_GUARDED_BY(mu_);
  grpc::Status next_error_ ABSL_GUARDED_BY(mu_);
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
