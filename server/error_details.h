// Error details: the machine-readable part of an error (AIP-193), carried inside the
// server on absl::Status payloads keyed by the detail's type URL, and sent by
// ToGrpcStatus (server/grpc_status.h) as a google.rpc.Status in the standard
// `grpc-status-details-bin` trailer, which every gRPC library can decode:
//   - google.rpc.BadRequest: one FieldViolation per offending field (at most
//     kMaxFieldViolations), on INVALID_ARGUMENT;
//   - google.rpc.ErrorInfo: a fixed `reason` (kReason* below, listed in the README) in the
//     domain "streamrec.v1", on every error this server raises for a known cause;
//   - google.rpc.RetryInfo: how long to wait before retrying, on the errors that a retry
//     can cure (a full queue, a stream limit, recovery, unwritable storage).
// The details travel in a trailer with the same size limit as other metadata, so they are
// capped at about kMaxDetailsBytes (descriptions cut, violations beyond the cap dropped).
// Pure functions of their arguments; any thread.
#ifndef STREAMREC_SERVER_ERROR_DETAILS_H_
#define STREAMREC_SERVER_ERROR_DETAILS_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace streamrec::server {

inline constexpr char kErrorDomain[] = "streamrec.v1";
inline constexpr size_t kMaxFieldViolations = 10;
inline constexpr size_t kMaxDetailsBytes = 2048;

// ErrorInfo reasons. INVALID_ARGUMENT: a field is invalid (BadRequest names it) or the
// request's bytes are not a valid message. RESOURCE_EXHAUSTED: the event queue is full by
// events or by bytes, or too many streams are open (all retryable, with RetryInfo).
// UNAVAILABLE: the server is recovering, its storage cannot be written, or it is shutting
// down (all retryable; after a shutdown, against the restarted server or another one).
// UNAUTHENTICATED: no bearer token where one is needed, or one that is not configured
// (or not "Bearer TOKEN"). PERMISSION_DENIED: the token's role may not call the method.
// UNIMPLEMENTED: a method that changes or copies the model, called on the serving port
// (it is served on --admin_listen only). None is retryable as is.
inline constexpr char kReasonInvalidField[] = "INVALID_FIELD";
inline constexpr char kReasonMalformedRequest[] = "MALFORMED_REQUEST";
inline constexpr char kReasonQueueFull[] = "QUEUE_FULL";
inline constexpr char kReasonQueueBytesFull[] = "QUEUE_BYTES_FULL";
inline constexpr char kReasonStreamLimit[] = "STREAM_LIMIT";
inline constexpr char kReasonRecovering[] = "RECOVERING";
inline constexpr char kReasonStorageUnavailable[] = "STORAGE_UNAVAILABLE";
inline constexpr char kReasonShuttingDown[] = "SHUTTING_DOWN";
inline constexpr char kReasonTokenMissing[] = "TOKEN_MISSING";
inline constexpr char kReasonTokenInvalid[] = "TOKEN_INVALID";
inline constexpr char kReasonRoleDenied[] = "ROLE_DENIED";
inline constexpr char kReasonAdminPortOnly[] = "ADMIN_PORT_ONLY";

// RecoveringError: UNAVAILABLE while the server replays its event log (RECOVERING, retry
// after a second); what every call that needs a ready server answers before then.
absl::Status RecoveringError();

// ShuttingDownError: UNAVAILABLE "the server is shutting down; <what>" (SHUTTING_DOWN,
// retry after a second): a call or a stream the server refused or ended because it is
// stopping; `what` says what was accepted.
absl::Status ShuttingDownError(std::string_view what);

// MalformedRequestError: INVALID_ARGUMENT "request is not a valid TYPE (N bytes)", reason
// MALFORMED_REQUEST: the answer to bytes that do not parse as the request's message.
absl::Status MalformedRequestError(std::string_view type, size_t bytes);

// FieldError: INVALID_ARGUMENT "field: description", with a BadRequest naming `field`.
absl::Status FieldError(std::string_view field, std::string_view description);

// MergeFieldErrors: one INVALID_ARGUMENT for several invalid parts of a request (each a
// FieldError, in request order; at least one): the message is the first error's, with
// "(and N more invalid events)" when `total` > 1, the BadRequest lists the first
// kMaxFieldViolations violations. `total` counts every invalid part, listed or not.
absl::Status MergeFieldErrors(const std::vector<absl::Status>& errors, size_t total);

// WithReason: `s` with an ErrorInfo of `reason`, and a RetryInfo of `retry_after` when
// that is positive.
absl::Status WithReason(absl::Status s, std::string_view reason,
                        absl::Duration retry_after = absl::ZeroDuration());

// ErrorReason: the ErrorInfo reason `s` carries, "" when none.
std::string ErrorReason(const absl::Status& s);

// EncodeDetails: the serialized google.rpc.Status of `s` (code, message, and the details
// among its payloads), or "" when `s` is OK or carries none. At most about
// kMaxDetailsBytes.
std::string EncodeDetails(const absl::Status& s, std::string_view message);

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_ERROR_DETAILS_H_
