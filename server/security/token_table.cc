#include "server/security/token_table.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "absl/strings/str_cat.h"

namespace streamrec::server::security {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// Words: `line` split at runs of spaces and tabs.
std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsSpace(line[i])) ++i;
    const size_t start = i;
    while (i < line.size() && !IsSpace(line[i])) ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

// WithoutComment: `line` up to a '#' that starts it or follows a space or tab (a token
// holds no space, so a '#' inside a token is the token's).
std::string_view WithoutComment(std::string_view line) {
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' && (i == 0 || IsSpace(line[i - 1]))) return line.substr(0, i);
  }
  return line;
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kPredict: return "predict";
    case Role::kObserve: return "observe";
    case Role::kAdmin: return "admin";
  }
  return "?";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::kPredict, Role::kObserve, Role::kAdmin}) {
    if (name == RoleName(r)) return r;
  }
  return std::nullopt;
}

bool Allows(Role role, Access access) {
  switch (access) {
    case Access::kPredict:
    case Access::kRead: return true;
    case Access::kObserve: return role == Role::kObserve || role == Role::kAdmin;
    case Access::kAdmin: return role == Role::kAdmin;
  }
  return false;
}

std::string RolesAllowed(Access access) {
  switch (access) {
    case Access::kPredict:
    case Access::kRead: return "predict, observe or admin";
    case Access::kObserve: return "observe or admin";
    case Access::kAdmin: return "admin";
  }
  return "?";
}

bool NeedsToken(Access access, bool predict_requires_auth) {
  return access != Access::kPredict || predict_requires_auth;
}

TokenTable::Digest TokenTable::Sha256(std::string_view text) {
  Digest d{};
  unsigned int n = 0;
  EVP_Digest(text.data(), text.size(), d.data(), &n, EVP_sha256(), nullptr);
  return d;
}

absl::StatusOr<TokenTable> TokenTable::Parse(std::string_view text, std::string_view source) {
  TokenTable table;
  int line_number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = WithoutComment(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_number;
    const std::vector<std::string_view> words = Words(line);
    if (words.empty()) continue;
    const std::string where = absl::StrCat(std::string(source), ":", line_number, ": ");
    if (words.size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, "expected `TOKEN ROLE` (two words), got ", words.size(), " words"));
    }
    const std::optional<Role> role = ParseRole(words[1]);
    if (!role) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, "unknown role (the roles are predict, observe, admin)"));
    }
    const std::string_view token = words[0];
    if (token.size() < kMinTokenBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, "token of ", token.size(), " bytes; at least ", kMinTokenBytes,
          " are needed (e.g. `openssl rand -hex 32`)"));
    }
    for (char c : token) {
      if (c < 0x21 || c > 0x7e) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, "the token holds a byte that is not printable ASCII"));
      }
    }
    const Digest digest = Sha256(token);
    if (table.Find(token).has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(where, "this token is listed twice"));
    }
    table.entries_.push_back({digest, *role});
  }
  return table;
}

std::optional<Role> TokenTable::Find(std::string_view token) const {
  const Digest digest = Sha256(token);
  std::optional<Role> found;
  for (const Entry& e : entries_) {
    // CRYPTO_memcmp takes the same time whatever the bytes; no entry is skipped.
    const bool equal = CRYPTO_memcmp(e.digest.data(), digest.data(), digest.size()) == 0;
    if (equal) found = e.role;
  }
  return found;
}

}  // namespace streamrec::server::security
