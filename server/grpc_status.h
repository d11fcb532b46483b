// ToGrpcStatus: the one place absl::Status becomes grpc::Status (same canonical codes).
// The message is capped at kMaxErrorMessageBytes (server/error_text.h), the last line of
// defence against a message that would exceed gRPC's metadata limit (the client would
// then get RESOURCE_EXHAUSTED instead of our code). The status's error details
// (server/error_details.h) go along as a serialized google.rpc.Status, which gRPC sends
// in the `grpc-status-details-bin` trailer. Callable from any thread.
#ifndef STREAMREC_SERVER_GRPC_STATUS_H_
#define STREAMREC_SERVER_GRPC_STATUS_H_

#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"
#include "server/error_details.h"
#include "server/error_text.h"

namespace streamrec::server {

inline grpc::Status ToGrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  std::string message =
      CapErrorMessage(std::string_view(s.message().data(), s.message().size()));
  std::string details = EncodeDetails(s, message);
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::move(message),
                      std::move(details));
}

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_GRPC_STATUS_H_
