// ToGrpcStatus: the one place absl::Status becomes grpc::Status (same canonical codes).
#ifndef STREAMREC_SERVER_GRPC_STATUS_H_
#define STREAMREC_SERVER_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace streamrec::server {

inline grpc::Status ToGrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_GRPC_STATUS_H_
