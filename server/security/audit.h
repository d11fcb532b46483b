// Audit: one log record (common/log.h) per administrative action, allowed or not:
//   ... INFO audit action=rollback peer=ipv4:10.0.3.7:51234 role=admin
//       subject="CN=ops-laptop" result=OK model_version=182 detail=""
// `action` is save_snapshot, rollback, export_snapshot, import_snapshot or start_fresh;
// `peer` the client's address as gRPC names it ("local" for start_fresh, which the
// operator's flag performs at start); `role` the bearer token's role ("none" without a
// token, "-" when the token was refused); `subject` the client certificate's subject
// under mutual TLS ("" otherwise); `result` the status code's name (OK,
// PERMISSION_DENIED, ...); `model_version` the version the action served or exported
// (0 when none); `detail` the target version or the error message.
// Thread-safe (one write(2) per record).
#ifndef STREAMREC_SERVER_SECURITY_AUDIT_H_
#define STREAMREC_SERVER_SECURITY_AUDIT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "grpcpp/server_context.h"
#include "server/security/token_table.h"

namespace streamrec::server::security {

// AuditCaller: who called, captured when the call starts (the context may be gone by
// the time a streamed action ends).
struct AuditCaller {
  std::string peer, role, subject;
};

// Caller: the peer and client certificate subject of `context`, and `role` (nullopt:
// "none"; `refused`: "-").
AuditCaller Caller(const grpc::ServerContextBase& context, std::optional<Role> role,
                   bool refused = false);

// Audit writes the record for the action's outcome `result`; `detail` is `ok_detail`
// when it is OK, else its message.
void Audit(std::string_view action, const AuditCaller& caller, const absl::Status& result,
           std::string_view ok_detail, uint64_t model_version = 0);

}  // namespace streamrec::server::security

#endif  // STREAMREC_SERVER_SECURITY_AUDIT_H_
