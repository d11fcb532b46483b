#include "server/error_details.h"

#include <algorithm>
#include <cstdint>
#include <optional>

#include "absl/strings/cord.h"
#include "absl/types/optional.h"
#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace streamrec::server {
namespace {

constexpr char kTypePrefix[] = "type.googleapis.com/";
constexpr size_t kMaxPartBytes = 200;  // of a violation's field or description

std::string TypeUrl(const google::protobuf::Message& m) {
  return absl::StrCat(kTypePrefix, m.GetDescriptor()->full_name());
}

std::string Cut(std::string_view s) {
  if (s.size() <= kMaxPartBytes) return std::string(s);
  // Back off to a UTF-8 character boundary (protobuf strings must stay valid UTF-8).
  size_t n = kMaxPartBytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return absl::StrCat(std::string(s.substr(0, n)), "...");
}

template <typename T>
std::optional<T> Payload(const absl::Status& s) {
  T message;
  absl::optional<absl::Cord> raw = s.GetPayload(TypeUrl(message));
  if (!raw || !message.ParseFromString(std::string(*raw))) return std::nullopt;
  return message;
}

void Put(absl::Status& s, const google::protobuf::Message& m) {
  s.SetPayload(TypeUrl(m), absl::Cord(m.SerializeAsString()));
}

}  // namespace

absl::Status RecoveringError() {
  return WithReason(
      absl::UnavailableError("the server is recovering (replaying its event log); retry"),
      kReasonRecovering, absl::Seconds(1));
}

absl::Status ShuttingDownError(std::string_view what) {
  return WithReason(
      absl::UnavailableError(absl::StrCat("the server is shutting down; ", std::string(what))),
      kReasonShuttingDown, absl::Seconds(1));
}

absl::Status MalformedRequestError(std::string_view type, size_t bytes) {
  return WithReason(absl::InvalidArgumentError(absl::StrCat(
                        "request is not a valid ", absl::string_view(type.data(), type.size()),
                        " (", bytes, " bytes)")),
                    kReasonMalformedRequest);
}

absl::Status FieldError(std::string_view field, std::string_view description) {
  absl::Status s = absl::InvalidArgumentError(
      absl::StrCat(std::string(field), ": ", std::string(description)));
  google::rpc::BadRequest bad;
  google::rpc::BadRequest::FieldViolation* v = bad.add_field_violations();
  v->set_field(Cut(field));
  v->set_description(Cut(description));
  Put(s, bad);
  return s;
}

absl::Status MergeFieldErrors(const std::vector<absl::Status>& errors, size_t total) {
  absl::Status merged = errors.front();
  if (total > 1) {
    merged = absl::Status(merged.code(), absl::StrCat(merged.message(), " (and ", total - 1,
                                                      " more invalid event",
                                                      total > 2 ? "s" : "", ")"));
  }
  google::rpc::BadRequest bad;
  for (const absl::Status& e : errors) {
    std::optional<google::rpc::BadRequest> one = Payload<google::rpc::BadRequest>(e);
    if (!one) continue;
    for (const auto& v : one->field_violations()) {
      if (static_cast<size_t>(bad.field_violations_size()) >= kMaxFieldViolations) break;
      *bad.add_field_violations() = v;
    }
  }
  if (bad.field_violations_size() > 0) Put(merged, bad);
  return merged;
}

absl::Status WithReason(absl::Status s, std::string_view reason, absl::Duration retry_after) {
  if (s.ok()) return s;
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(kErrorDomain);
  Put(s, info);
  if (retry_after > absl::ZeroDuration()) {
    google::rpc::RetryInfo retry;
    const int64_t ms = absl::ToInt64Milliseconds(retry_after);
    retry.mutable_retry_delay()->set_seconds(ms / 1000);
    retry.mutable_retry_delay()->set_nanos(static_cast<int32_t>(ms % 1000) * 1000000);
    Put(s, retry);
  }
  return s;
}

std::string ErrorReason(const absl::Status& s) {
  std::optional<google::rpc::ErrorInfo> info = Payload<google::rpc::ErrorInfo>(s);
  return info ? info->reason() : "";
}

std::string EncodeDetails(const absl::Status& s, std::string_view message) {
  if (s.ok()) return "";
  google::rpc::Status out;
  std::optional<google::rpc::ErrorInfo> info = Payload<google::rpc::ErrorInfo>(s);
  std::optional<google::rpc::BadRequest> bad = Payload<google::rpc::BadRequest>(s);
  if (bad && !info) {  // a field error: its reason goes without saying
    info.emplace();
    info->set_reason(kReasonInvalidField);
    info->set_domain(kErrorDomain);
  }
  if (info) out.add_details()->PackFrom(*info);
  if (std::optional<google::rpc::RetryInfo> retry = Payload<google::rpc::RetryInfo>(s)) {
    out.add_details()->PackFrom(*retry);
  }
  out.set_code(static_cast<int32_t>(s.code()));
  out.set_message(std::string(message));
  if (bad) {
    // Violations in order until the whole trailer (the message included) reaches the cap.
    google::rpc::BadRequest kept;
    size_t bytes = out.ByteSizeLong();
    for (const auto& v : bad->field_violations()) {
      bytes += v.ByteSizeLong() + 8;  // + tag and length prefixes
      if (bytes > kMaxDetailsBytes) break;
      *kept.add_field_violations() = v;
    }
    if (kept.field_violations_size() > 0) out.add_details()->PackFrom(kept);
  }
  if (out.details_size() == 0) return "";
  return out.SerializeAsString();
}

}  // namespace streamrec::server
