// ToGrpcStatus: same code, message capped, error details (server/error_details.h) in a
// google.rpc.Status as gRPC sends it in the grpc-status-details-bin trailer.
#include "server/grpc_status.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

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

google::rpc::Status Details(const grpc::Status& s) {
  google::rpc::Status out;
  EXPECT_TRUE(out.ParseFromString(s.error_details()));
  EXPECT_EQ(out.code(), static_cast<int>(s.error_code()));
  EXPECT_EQ(out.message(), s.error_message());
  return out;
}

template <typename T>
std::vector<T> Unpack(const google::rpc::Status& s) {
  std::vector<T> out;
  for (const auto& any : s.details()) {
    T m;
    if (any.UnpackTo(&m)) out.push_back(m);
  }
  return out;
}

TEST(GrpcStatusTest, AFieldErrorNamesTheFieldInABadRequest) {
  const grpc::Status s = ToGrpcStatus(FieldError("events[0].label", "2 is outside [0, 1]"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "events[0].label: 2 is outside [0, 1]");
  const google::rpc::Status d = Details(s);
  const auto bad = Unpack<google::rpc::BadRequest>(d);
  ASSERT_EQ(bad.size(), 1u);
  ASSERT_EQ(bad[0].field_violations_size(), 1);
  EXPECT_EQ(bad[0].field_violations(0).field(), "events[0].label");
  EXPECT_EQ(bad[0].field_violations(0).description(), "2 is outside [0, 1]");
  const auto info = Unpack<google::rpc::ErrorInfo>(d);
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].reason(), "INVALID_FIELD");
  EXPECT_EQ(info[0].domain(), "streamrec.v1");
  EXPECT_TRUE(Unpack<google::rpc::RetryInfo>(d).empty());  // retrying will not help
}

TEST(GrpcStatusTest, MergedFieldErrorsListTheFirstTenAndStayUnderTheCap) {
  std::vector<absl::Status> errors;
  for (int i = 0; i < 10; ++i) {
    errors.push_back(FieldError("events[" + std::to_string(i) + "].label",
                                std::string(500, 'x')));  // cut to 200 bytes each
  }
  const grpc::Status s = ToGrpcStatus(MergeFieldErrors(errors, 37));
  EXPECT_EQ(s.error_message().rfind("events[0].label: ", 0), 0u);
  EXPECT_NE(s.error_message().find("(and 36 more invalid events)"), std::string::npos);
  EXPECT_LE(s.error_details().size(), kMaxDetailsBytes + 64);  // the message included
  const auto bad = Unpack<google::rpc::BadRequest>(Details(s));
  ASSERT_EQ(bad.size(), 1u);
  // 10 violations of ~215 bytes do not all fit in 2 KB: the first ones, in order.
  ASSERT_GE(bad[0].field_violations_size(), 5);
  ASSERT_LT(bad[0].field_violations_size(), 10);
  for (int i = 0; i < bad[0].field_violations_size(); ++i) {
    EXPECT_EQ(bad[0].field_violations(i).field(), "events[" + std::to_string(i) + "].label");
    EXPECT_EQ(bad[0].field_violations(i).description(), std::string(200, 'x') + "...");
  }
  const grpc::Status two = ToGrpcStatus(MergeFieldErrors(
      {FieldError("events[1].weight", "-1 is not a finite value >= 0"),
       FieldError("events[3].item", "required")},
      2));
  EXPECT_EQ(two.error_message(),
            "events[1].weight: -1 is not a finite value >= 0 (and 1 more invalid event)");
  const auto both = Unpack<google::rpc::BadRequest>(Details(two));
  ASSERT_EQ(both.size(), 1u);
  ASSERT_EQ(both[0].field_violations_size(), 2);
  EXPECT_EQ(both[0].field_violations(1).field(), "events[3].item");
}

TEST(GrpcStatusTest, RetryableErrorsCarryAReasonAndARetryDelay) {
  const grpc::Status s = ToGrpcStatus(WithReason(absl::ResourceExhaustedError("event queue full"),
                                                 kReasonQueueFull, absl::Milliseconds(1500)));
  const google::rpc::Status d = Details(s);
  const auto info = Unpack<google::rpc::ErrorInfo>(d);
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].reason(), "QUEUE_FULL");
  const auto retry = Unpack<google::rpc::RetryInfo>(d);
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_EQ(retry[0].retry_delay().seconds(), 1);
  EXPECT_EQ(retry[0].retry_delay().nanos(), 500000000);
  const google::rpc::Status recovering = Details(ToGrpcStatus(RecoveringError()));
  EXPECT_EQ(recovering.code(), static_cast<int>(grpc::StatusCode::UNAVAILABLE));
  EXPECT_EQ(Unpack<google::rpc::ErrorInfo>(recovering).at(0).reason(), "RECOVERING");
  EXPECT_EQ(Unpack<google::rpc::RetryInfo>(recovering).at(0).retry_delay().seconds(), 1);
}

TEST(GrpcStatusTest, AnErrorWithoutDetailsSendsNone) {
  EXPECT_TRUE(ToGrpcStatus(absl::InternalError("disk")).error_details().empty());
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).error_details().empty());
}

}  // namespace
}  // namespace streamrec::server
