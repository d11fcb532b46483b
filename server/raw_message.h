// Raw request parsing and response serialization for the Recommender service. Its
// methods are registered raw (grpc::ByteBuffer) so that a request whose bytes are not a
// valid message reaches our code: the generated handlers would end a stream with OK at
// such a frame (dropping everything after it) and answer a unary call UNIMPLEMENTED
// with an empty message. Stateless functions, callable from any thread.
//
//   google::protobuf::Arena arena;
//   absl::StatusOr<v1::PredictRequest*> request = ParseRequest<v1::PredictRequest>(raw, arena);
//   if (!request.ok()) ...  // InvalidArgument naming the type and size
#ifndef STREAMREC_SERVER_RAW_MESSAGE_H_
#define STREAMREC_SERVER_RAW_MESSAGE_H_

#include "absl/status/statusor.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/message.h"
#include "grpcpp/support/byte_buffer.h"

namespace streamrec::server {

// PublicTypeName: the API type a message stands for: its own name, or for a request's
// view (proto/streamrec/internal/request_views.proto) the v1 request it parses.
std::string PublicTypeName(const google::protobuf::Message& message);

// ParseInto parses `raw` into `message` (cleared first). InvalidArgument
// "request is not a valid streamrec.v1.ObserveRequest (1234 bytes)" when the bytes are
// not a valid message of that type (broken wire format, or a string field that is not
// UTF-8). `raw` is left unchanged (its slices are shared, not copied).
absl::Status ParseInto(const grpc::ByteBuffer& raw, google::protobuf::Message& message);

// ParseRequest parses `raw` into a new T allocated on `arena`, which owns it.
template <typename T>
absl::StatusOr<T*> ParseRequest(const grpc::ByteBuffer& raw, google::protobuf::Arena& arena) {
  T* message = google::protobuf::Arena::CreateMessage<T>(&arena);
  if (absl::Status s = ParseInto(raw, *message); !s.ok()) return s;
  return message;
}

// SerializeResponse replaces `raw` with the wire bytes of `message`. Internal when the
// message cannot be serialized (over 2 GiB).
absl::Status SerializeResponse(const google::protobuf::Message& message, grpc::ByteBuffer& raw);

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_RAW_MESSAGE_H_
