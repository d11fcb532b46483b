#include "server/bench_service.h"

#include <algorithm>
#include <string>

#include "google/protobuf/arena.h"
#include "server/grpc_status.h"
#include "server/raw_message.h"

namespace streamrec::server {

grpc::ServerUnaryReactor* BenchService::Echo(grpc::CallbackServerContext* context,
                                             const grpc::ByteBuffer* request,
                                             grpc::ByteBuffer* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (auto who = auth_->Authorize(*context, security::Access::kPredict, "Echo"); !who.ok()) {
    reactor->Finish(ToGrpcStatus(who.status()));
    return reactor;
  }
  google::protobuf::Arena arena;  // request and response; the call finishes inline
  absl::StatusOr<v1::EchoRequest*> parsed = ParseRequest<v1::EchoRequest>(*request, arena);
  if (!parsed.ok()) {
    reactor->Finish(ToGrpcStatus(parsed.status()));
    return reactor;
  }
  auto* out = google::protobuf::Arena::CreateMessage<v1::EchoResponse>(&arena);
  out->mutable_payload()->assign(
      std::min<size_t>((*parsed)->response_bytes(), max_payload_bytes_), '\0');
  reactor->Finish(ToGrpcStatus(SerializeResponse(*out, *response)));
  return reactor;
}

}  // namespace streamrec::server
