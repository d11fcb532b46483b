// The server's security flags (--admin_listen, --tls_*, --auth_tokens_file,
// --predict_requires_auth; README "Server flags"), defined in security_flags.cc and
// linked into streamrec-server only.
//
//   if (absl::Status s = ApplySecurityFlags(options); !s.ok()) return Fail(s.message());
//
// Call after absl::ParseCommandLine, from the main thread.
#ifndef STREAMREC_SERVER_SECURITY_SECURITY_FLAGS_H_
#define STREAMREC_SERVER_SECURITY_SECURITY_FLAGS_H_

#include <string>

#include "absl/status/status.h"
#include "server/grpc_server.h"

namespace streamrec::server::security {

// ApplySecurityFlags sets options.admin_listen, .tls and .auth from the flags.
// InvalidArgument naming the flag for a combination that cannot work (files are checked
// by GrpcServer::Start).
absl::Status ApplySecurityFlags(ServerOptions& options);

// AdminListenFlag: --admin_listen's value.
std::string AdminListenFlag();

}  // namespace streamrec::server::security

#endif  // STREAMREC_SERVER_SECURITY_SECURITY_FLAGS_H_
