// ToGrpcStatus: same code, message capped.
#include "server/grpc_status.h"

#include <gtest/gtest.h>

#include <string>

namespace streamrec::server {
namespace {

TEST(GrpcStatusTest, KeepsCodeAndMessage) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  const grpc::Status s = ToGrpcStatus(absl::InvalidArgumentError("events[0].label: required"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "events[0].label: required");
  EXPECT_EQ(ToGrpcStatus(absl::ResourceExhaustedError("full")).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST(GrpcStatusTest, CapsTheMessageAtAboutOneKilobyte) {
  const grpc::Status s = ToGrpcStatus(absl::InternalError(std::string(20000, 'e')));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(s.error_message(),
            std::string(kMaxErrorMessageBytes, 'e') + "... (message of 20000 bytes truncated)");
}

}  // namespace
}  // namespace streamrec::server
