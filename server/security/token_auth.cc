#include "server/security/token_auth.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "server/error_details.h"
#include "server/security/read_file.h"

namespace streamrec::server::security {
namespace {

constexpr char kHowToSend[] = "metadata `authorization: Bearer TOKEN`";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsBearer(std::string_view s) {  // "bearer " in any case
  constexpr std::string_view kScheme = "bearer ";
  if (s.size() < kScheme.size()) return false;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (absl::ascii_tolower(static_cast<unsigned char>(s[i])) != kScheme[i]) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::optional<Role>> CheckAuthorization(
    const TokenTable* table, const std::vector<std::string_view>& authorization,
    Access access, bool predict_requires_auth, std::string_view method) {
  if (table == nullptr) return std::optional<Role>();
  const std::string m(method);
  if (authorization.empty()) {
    if (!NeedsToken(access, predict_requires_auth)) return std::optional<Role>();
    return WithReason(absl::UnauthenticatedError(absl::StrCat(
                          m, " needs a bearer token (", kHowToSend, ") with role ",
                          RolesAllowed(access), "; the call sent none")),
                      kReasonTokenMissing);
  }
  if (authorization.size() > 1) {
    return WithReason(absl::UnauthenticatedError(absl::StrCat(
                          "the call sent ", authorization.size(),
                          " authorization values; send one (", kHowToSend, ")")),
                      kReasonTokenInvalid);
  }
  const std::string_view value = Trim(authorization[0]);
  if (!IsBearer(value)) {
    return WithReason(absl::UnauthenticatedError(absl::StrCat(
                          "the authorization metadata is not a bearer token (", kHowToSend,
                          ")")),
                      kReasonTokenInvalid);
  }
  const std::optional<Role> role = table->Find(Trim(value.substr(7)));
  if (!role) {
    return WithReason(absl::UnauthenticatedError(absl::StrCat(
                          "the bearer token sent to ", m,
                          " is not one of the server's (--auth_tokens_file)")),
                      kReasonTokenInvalid);
  }
  if (!Allows(*role, access)) {
    return WithReason(absl::PermissionDeniedError(absl::StrCat(
                          m, " needs a token with role ", RolesAllowed(access),
                          "; this token has role ", RoleName(*role))),
                      kReasonRoleDenied);
  }
  return role;
}

absl::StatusOr<std::shared_ptr<const TokenTable>> Authorizer::Load(const std::string& path) {
  // A regular file only: a directory reads as nothing, and a FIFO would block this
  // thread (the SIGHUP thread, which the stop then waits for) until a writer came.
  absl::StatusOr<std::string> text = ReadRegularFile("--auth_tokens_file", path);
  if (!text.ok()) return text.status();
  absl::StatusOr<TokenTable> table = TokenTable::Parse(*text, path);
  if (!table.ok()) return table.status();
  struct stat st {};
  // Others reading it is the risk; a group read is how Kubernetes mounts a Secret for a
  // non-root user (root-owned, group fsGroup, mode 0440), so only a group the server is
  // not in counts.
  if (::stat(path.c_str(), &st) == 0 &&
      ((st.st_mode & 007) != 0 || ((st.st_mode & 070) != 0 && st.st_gid != ::getegid()))) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 0777));
    log::Warning("tokens file readable by others or another group",
                 {{"path", path}, {"mode", std::string(mode)}});
  }
  return std::make_shared<const TokenTable>(*std::move(table));
}

static void WarnIfEmpty(const TokenTable& table, const std::string& path) {
  if (table.size() == 0) {
    log::Warning("tokens file holds no token: every call that needs one is refused",
                 {{"path", path}});
  }
}

absl::StatusOr<std::unique_ptr<Authorizer>> Authorizer::Create(const AuthOptions& options) {
  std::unique_ptr<Authorizer> a(new Authorizer(options));
  if (a->configured()) {
    absl::StatusOr<std::shared_ptr<const TokenTable>> table = Load(options.tokens_file);
    if (!table.ok()) return table.status();
    WarnIfEmpty(**table, options.tokens_file);
    absl::MutexLock lock(&a->mu_);
    a->table_ = *std::move(table);
  }
  return a;
}

absl::Status Authorizer::Reload() {
  if (!configured()) return absl::OkStatus();
  absl::StatusOr<std::shared_ptr<const TokenTable>> table = Load(options_.tokens_file);
  if (!table.ok()) return table.status();
  absl::MutexLock lock(&mu_);
  const size_t in_force = table_ ? table_->size() : 0;
  if ((*table)->size() == 0 && in_force > 0) {
    // Most likely caught mid-write (truncated, then written): refusing everyone on that
    // is worse than keeping the tokens a moment longer.
    return absl::FailedPreconditionError(absl::StrCat(
        "--auth_tokens_file ", options_.tokens_file, " holds no token; keeping the ", in_force,
        " tokens in force (to refuse every call, list a token nobody has)"));
  }
  WarnIfEmpty(**table, options_.tokens_file);
  table_ = *std::move(table);
  return absl::OkStatus();
}

size_t Authorizer::token_count() const {
  absl::MutexLock lock(&mu_);
  return table_ ? table_->size() : 0;
}

absl::StatusOr<std::optional<Role>> Authorizer::Authorize(const grpc::ServerContextBase& context,
                                                          Access access,
                                                          std::string_view method) const {
  if (!configured()) return std::optional<Role>();
  std::shared_ptr<const TokenTable> table;
  {
    absl::MutexLock lock(&mu_);
    table = table_;
  }
  std::vector<std::string_view> values;
  const auto range = context.client_metadata().equal_range("authorization");
  for (auto it = range.first; it != range.second; ++it) {
    values.emplace_back(it->second.data(), it->second.size());
  }
  return CheckAuthorization(table.get(), values, access, options_.predict_requires_auth,
                            method);
}

}  // namespace streamrec::server::security
