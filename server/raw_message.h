// Raw request parsing and response serialization for the Recommender service. Its
// methods are registered raw (grpc::ByteBuffer) so that a request whose bytes are not a
// valid message reaches our code: the generated handlers would end a stream with OK at
// such a frame (dropping everything after it) and answer a unary call UNIMPLEMENTED
// with an empty message. Stateless functions, callable from any thread.
//
//   google::protobuf::Arena arena;
//   absl::StatusOr<v1::PredictRequest*> request = ParseRequest<v1::PredictRequest>(raw, arena);
//   if (!request.ok()) ...  // InvalidArgument naming the type and size
// Predict and Observe requests skip protobuf's messages (ParseInto with RequestBytes).
#ifndef STREAMREC_SERVER_RAW_MESSAGE_H_
#define STREAMREC_SERVER_RAW_MESSAGE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/message.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/slice.h"
#include "server/parsed_request.h"

namespace streamrec::server {

// RequestBytes: a received message's bytes in one piece: gRPC's slice shared when there
// is one, copied into a buffer sized from the received length when gRPC split them.
// Valid until the next Take.
class RequestBytes {
 public:
  // Take: InvalidArgument when raw's slices cannot be read.
  absl::Status Take(const grpc::ByteBuffer& raw);
  std::string_view bytes() const { return bytes_; }
  // Release lets go of the received bytes (gRPC's slices; a copy of more than 1 MiB).
  void Release();

 private:
  std::vector<grpc::Slice> slices_;
  std::string copy_;
  std::string_view bytes_;
};

// ParseInto reads `raw` with the zero-copy parser (server/parsed_request.h): `out` points
// into `bytes`, which keeps the received bytes. InvalidArgument as below when the bytes
// are not a valid message.
absl::Status ParseInto(const grpc::ByteBuffer& raw, RequestBytes& bytes, ParsedPredict& out);
absl::Status ParseInto(const grpc::ByteBuffer& raw, RequestBytes& bytes, ParsedObserve& out);

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
