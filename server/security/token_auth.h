// Authorizer: decides each call from its `authorization: Bearer TOKEN` metadata, the
// tokens of --auth_tokens_file (server/security/token_table.h) and the role matrix.
//
//   absl::StatusOr<std::optional<Role>> who = auth.Authorize(*context, Access::kObserve,
//                                                            "Observe");
//   if (!who.ok()) { reactor->Finish(ToGrpcStatus(who.status())); return reactor; }
//
// Without a tokens file every call passes (role nullopt). With one: a method that needs a
// token (NeedsToken) and gets none is UNAUTHENTICATED (TOKEN_MISSING); a token that is
// not "Bearer TOKEN" or not in the file is UNAUTHENTICATED (TOKEN_INVALID), even on a
// method that needs none (a wrong token never passes silently); a valid token whose role
// the method does not allow is PERMISSION_DENIED (ROLE_DENIED). Each message names the
// method and what it needs.
// Thread-safe: Authorize from any thread, Reload (SIGHUP) concurrently with it.
#ifndef STREAMREC_SERVER_SECURITY_TOKEN_AUTH_H_
#define STREAMREC_SERVER_SECURITY_TOKEN_AUTH_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/server_context.h"
#include "server/security/token_table.h"

namespace streamrec::server::security {

struct AuthOptions {
  std::string tokens_file;             // empty: no tokens, every call passes
  bool predict_requires_auth = false;  // Predict needs a token too
};

// CheckAuthorization: the decision above for one call, from its `authorization` values
// (in order; more than one is TOKEN_INVALID) and `table` (null: no tokens configured).
absl::StatusOr<std::optional<Role>> CheckAuthorization(
    const TokenTable* table, const std::vector<std::string_view>& authorization,
    Access access, bool predict_requires_auth, std::string_view method);

class Authorizer {
 public:
  // Create reads the tokens file (when set): InvalidArgument naming the file and line
  // for a malformed one, or naming the flag for a directory, FIFO or other file that is
  // not a regular one (never opened: server/security/read_file.h); NotFound /
  // PermissionDenied when it cannot be read. An empty table is allowed (and warned about).
  static absl::StatusOr<std::unique_ptr<Authorizer>> Create(const AuthOptions& options);

  absl::StatusOr<std::optional<Role>> Authorize(const grpc::ServerContextBase& context,
                                                Access access, std::string_view method) const;

  // Reload re-reads the tokens file: on success the new tokens apply to every call that
  // starts after it; on error the current ones stay, and the error says why. A file
  // that holds no token while tokens are in force is refused (FailedPrecondition: "holds
  // no token; keeping the N tokens in force"), as a file caught mid-write most likely
  // is. Never blocks on the file (a FIFO is refused unopened). OK and nothing done
  // without a tokens file.
  absl::Status Reload();

  bool configured() const { return !options_.tokens_file.empty(); }
  size_t token_count() const;

 private:
  explicit Authorizer(AuthOptions options) : options_(std::move(options)) {}
  static absl::StatusOr<std::shared_ptr<const TokenTable>> Load(const std::string& path);

  const AuthOptions options_;  // constant after construction
  mutable absl::Mutex mu_;
  std::shared_ptr<const TokenTable> table_ ABSL_GUARDED_BY(mu_);
};

}  // namespace streamrec::server::security

#endif  // STREAMREC_SERVER_SECURITY_TOKEN_AUTH_H_
