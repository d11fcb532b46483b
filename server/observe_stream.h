// ObserveStreamReactor: one ObserveStream call, on raw frames (grpc::ByteBuffer). Reads
// one request, parses it (an unparseable frame ends the stream with INVALID_ARGUMENT and
// is counted), enqueues its events (parking while the queue is full), writes the
// acknowledgement once they are logged, then reads the next: one request in flight, so
// the stream's order is kept and its memory bounded. Requests acknowledged before an
// error stay accepted.
//
// Owned by gRPC: created by RecommenderService::ObserveStream once it has taken a slot
// of core->streams(); gives the slot back and deletes itself in OnDone. Its callbacks
// run on gRPC threads, the log writer's thread (acknowledgement) or the updater's (room
// freed), one at a time; never blocks.
#ifndef STREAMREC_SERVER_OBSERVE_STREAM_H_
#define STREAMREC_SERVER_OBSERVE_STREAM_H_

#include <memory>

#include "google/protobuf/arena.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/server_callback.h"
#include "server/server_core.h"
#include "streamrec/v1/streamrec.pb.h"

namespace streamrec::server {

class ObserveStreamReactor final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit ObserveStreamReactor(ServerCore* core);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override;

 private:
  // Enqueue converts the request, reserves its bytes and pushes it, parking until the
  // updater frees room when the queue is full (by bytes: the converted batch is dropped
  // while waiting and converted again; by events: the batch waits, its bytes counted).
  // Runs on a gRPC thread, or on the updater thread when woken; never blocks.
  void Enqueue();
  // OnLogged acknowledges once logged (log writer thread); then the next read starts.
  void OnLogged(const absl::Status& s, size_t duplicates);

  ServerCore* const core_;
  // Each request is parsed into the arena, which is reset before the next read.
  google::protobuf::Arena arena_;
  grpc::ByteBuffer raw_request_;
  grpc::ByteBuffer raw_response_;
  v1::ObserveRequest* request_ = nullptr;  // in arena_, until the next read
  std::unique_ptr<core::EventBatch> pending_;
  size_t accepted_ = 0;
  bool prepared_ = false;  // the current request was counted once
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
