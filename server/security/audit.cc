#include "server/security/audit.h"

#include "common/log.h"
#include "server/security/tls_options.h"

namespace streamrec::server::security {

AuditCaller Caller(const grpc::ServerContextBase& context, std::optional<Role> role,
                   bool refused) {
  return {context.peer(), refused ? "-" : role ? RoleName(*role) : "none",
          PeerSubject(context)};
}

void Audit(std::string_view action, const AuditCaller& caller, const absl::Status& result,
           std::string_view ok_detail, uint64_t model_version) {
  const std::string detail =
      result.ok() ? std::string(ok_detail) : std::string(result.message());
  log::Info("audit", {{"action", action},
                      {"peer", caller.peer},
                      {"role", caller.role},
                      {"subject", caller.subject},
                      {"result", absl::StatusCodeToString(result.code())},
                      {"model_version", static_cast<unsigned long long>(model_version)},
                      {"detail", detail}});
}

}  // namespace streamrec::server::security
