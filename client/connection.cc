#include "client/connection.h"

#include <chrono>
#include <cstdio>

#include "client/exit_codes.h"
#include "google/protobuf/util/json_util.h"

namespace streamrec::client {

Connection::Connection(const std::string& target, double timeout_seconds)
    : target_(target), timeout_seconds_(timeout_seconds) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  channel_ = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  recommender_ = v1::Recommender::NewStub(channel_);
  admin_ = v1::Admin::NewStub(channel_);
  health_ = grpc::health::v1::Health::NewStub(channel_);
}

std::unique_ptr<grpc::ClientContext> Connection::Context(double seconds) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (seconds > 0) {
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)));
  }
  return ctx;
}

int Connection::Fail(const std::string& what, const grpc::Status& status) const {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      // Connected: the server answered that it cannot serve this now (recovering, disk
      // full); otherwise it could not be reached at all.
      if (channel_->GetState(false) == GRPC_CHANNEL_READY) {
        std::fprintf(stderr, "streamrec: %s: the server at %s is unavailable, retry later: %s\n",
                     what.c_str(), target_.c_str(), status.error_message().c_str());
      } else {
        std::fprintf(stderr, "streamrec: %s: cannot reach the server at %s (%s)\n", what.c_str(),
                     target_.c_str(), status.error_message().c_str());
      }
      return kExitConnection;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      std::fprintf(stderr, "streamrec: %s: no answer from %s before the deadline (--timeout)\n",
                   what.c_str(), target_.c_str());
      return kExitConnection;
    default:
      std::fprintf(stderr, "streamrec: %s: server error %d: %s\n", what.c_str(),
                   static_cast<int>(status.error_code()), status.error_message().c_str());
      return kExitServer;
  }
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

}  // namespace streamrec::client
