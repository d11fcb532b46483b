// TokenTable: the bearer tokens of --auth_tokens_file and their roles, and the role
// matrix: which role may call which kind of method. gRPC-free (pure functions and an
// immutable table), so it is tested as tables of cases.
//
//   absl::StatusOr<TokenTable> t = TokenTable::Parse(text, "tokens.txt");
//   std::optional<Role> r = t->Find(presented);     // constant time in the token
//   if (r && Allows(*r, Access::kObserve)) ...
//
// File format: one `TOKEN ROLE` per line (whitespace between), ROLE one of predict,
// observe, admin; a '#' at the start of a line or after a space or tab starts a comment
// to the end of the line (`3f9c...e1 predict   # the web frontend`); blank lines are
// ignored. A '#' inside a token (not after whitespace) is part of the token. A token is at
// least kMinTokenBytes printable non-space ASCII bytes; a token listed twice is an error.
// The table keeps only each token's SHA-256 digest, never the token itself.
// Thread-safe once built (immutable).
#ifndef STREAMREC_SERVER_SECURITY_TOKEN_TABLE_H_
#define STREAMREC_SERVER_SECURITY_TOKEN_TABLE_H_

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace streamrec::server::security {

inline constexpr size_t kMinTokenBytes = 16;

// Role: what a token may do. admin implies observe, observe implies predict.
enum class Role { kPredict, kObserve, kAdmin };

// Access: what a method needs. kPredict: Predict; kObserve: Observe and ObserveStream;
// kRead: GetModelInfo, GetStats, ListSnapshots; kAdmin: SaveSnapshot, Rollback,
// ExportSnapshot, ImportSnapshot.
enum class Access { kPredict, kObserve, kRead, kAdmin };

// RoleName: "predict", "observe", "admin". ParseRole: the inverse; nullopt otherwise.
const char* RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);

// Allows: whether a valid token of `role` may call a method needing `access`:
// kPredict and kRead any role, kObserve observe and admin, kAdmin admin only.
bool Allows(Role role, Access access);
// RolesAllowed: the roles Allows lets through, for messages ("observe or admin").
std::string RolesAllowed(Access access);
// NeedsToken: whether a method needing `access` needs a token once tokens are
// configured: all but kPredict, which needs one only with `predict_requires_auth`.
bool NeedsToken(Access access, bool predict_requires_auth);

class TokenTable {
 public:
  // Parse reads the file's text; `source` names it in errors ("tokens.txt:3: ..."),
  // which never quote a token. InvalidArgument for a malformed line, an unknown role, a
  // short token or a duplicate.
  static absl::StatusOr<TokenTable> Parse(std::string_view text, std::string_view source);

  // Find: the role of `token`, nullopt when it is not in the table. Its time depends on
  // the table's size, not on the token's content (every entry is compared, in full).
  std::optional<Role> Find(std::string_view token) const;
  size_t size() const { return entries_.size(); }

 private:
  using Digest = std::array<unsigned char, 32>;
  struct Entry {
    Digest digest;
    Role role;
  };
  static Digest Sha256(std::string_view text);
  std::vector<Entry> entries_;
};

}  // namespace streamrec::server::security

#endif  // STREAMREC_SERVER_SECURITY_TOKEN_TABLE_H_
