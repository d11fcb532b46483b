// TokenTable (server/security/token_table.h): the file format as a table of cases, the
// role matrix, lookups; and CheckAuthorization (server/security/token_auth.h): every
// outcome of a call's authorization metadata.
#include "server/security/token_table.h"

#include <gtest/gtest.h>

#include "server/error_details.h"
#include "server/security/token_auth.h"

namespace streamrec::server::security {
namespace {

constexpr char kTokens[] =
    "# comment\n"
    "\n"
    "predict-token-0123456789 predict\n"
    "  observe-token-0123456789\tobserve  \r\n"
    "admin-token-0123456789ab admin\n";

TEST(TokenTableTest, ParsesTokensAndRoles) {
  absl::StatusOr<TokenTable> t = TokenTable::Parse(kTokens, "tokens");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->size(), 3u);
  EXPECT_EQ(t->Find("predict-token-0123456789"), Role::kPredict);
  EXPECT_EQ(t->Find("observe-token-0123456789"), Role::kObserve);
  EXPECT_EQ(t->Find("admin-token-0123456789ab"), Role::kAdmin);
  EXPECT_EQ(t->Find("admin-token-0123456789a"), std::nullopt);  // a prefix
  EXPECT_EQ(t->Find(""), std::nullopt);
  EXPECT_EQ(TokenTable::Parse("", "tokens")->size(), 0u);
}

// The README's example ("Security": Tokens): a '#' after whitespace starts a comment,
// one inside a token is the token's.
TEST(TokenTableTest, TrailingCommentsAfterTheRole) {
  absl::StatusOr<TokenTable> t = TokenTable::Parse(
      "# generate each with `openssl rand -hex 32`\n"
      "3f9c0123456789abcdefe1 predict      # the web frontend\n"
      "b27a0123456789abcdef90 observe\t# the event collector\n"
      "61d0#123456789abcdef4c admin#not-a-comment-after-a-space-is-the-role\n",
      "tokens");
  EXPECT_FALSE(t.ok());  // "admin#..." is not a role
  t = TokenTable::Parse(
      "# generate each with `openssl rand -hex 32`\n"
      "3f9c0123456789abcdefe1 predict      # the web frontend\n"
      "b27a0123456789abcdef90 observe\t# the event collector\n"
      "61d0#123456789abcdef4c admin #operators\n"
      "   # an indented comment\n",
      "tokens");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->size(), 3u);
  EXPECT_EQ(t->Find("3f9c0123456789abcdefe1"), Role::kPredict);
  EXPECT_EQ(t->Find("b27a0123456789abcdef90"), Role::kObserve);
  EXPECT_EQ(t->Find("61d0#123456789abcdef4c"), Role::kAdmin);
  EXPECT_EQ(t->Find("61d0"), std::nullopt);
}

TEST(TokenTableTest, RefusesMalformedLinesNamingTheLineNotTheToken) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"just-one-word-0123456789\n", "tokens:1: expected `TOKEN ROLE`"},
      {"a-token-0123456789 admin extra\n", "tokens:1: expected `TOKEN ROLE`"},
      {"\na-token-0123456789 root\n", "tokens:2: unknown role"},
      {"short admin\n", "tokens:1: token of 5 bytes; at least 16"},
      {"a-token-0123456789 admin\na-token-0123456789 predict\n", "tokens:2: this token is listed twice"},
      {"a-token-\x01""0123456789 admin\n", "not printable ASCII"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<TokenTable> t = TokenTable::Parse(c.text, "tokens");
    ASSERT_FALSE(t.ok()) << c.text;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(t.status().message().find(c.message), std::string::npos) << t.status();
    EXPECT_EQ(t.status().message().find("0123456789"), std::string::npos) << t.status();
  }
}

TEST(TokenTableTest, RoleMatrix) {
  struct Case {
    Role role;
    Access access;
    bool allowed;
  } cases[] = {
      {Role::kPredict, Access::kPredict, true},  {Role::kPredict, Access::kRead, true},
      {Role::kPredict, Access::kObserve, false}, {Role::kPredict, Access::kAdmin, false},
      {Role::kObserve, Access::kPredict, true},  {Role::kObserve, Access::kRead, true},
      {Role::kObserve, Access::kObserve, true},  {Role::kObserve, Access::kAdmin, false},
      {Role::kAdmin, Access::kPredict, true},    {Role::kAdmin, Access::kRead, true},
      {Role::kAdmin, Access::kObserve, true},    {Role::kAdmin, Access::kAdmin, true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Allows(c.role, c.access), c.allowed) << RoleName(c.role) << " " << int(c.access);
  }
  EXPECT_FALSE(NeedsToken(Access::kPredict, false));
  EXPECT_TRUE(NeedsToken(Access::kPredict, true));
  EXPECT_TRUE(NeedsToken(Access::kRead, false));
  EXPECT_TRUE(NeedsToken(Access::kObserve, false));
  EXPECT_TRUE(NeedsToken(Access::kAdmin, false));
  for (Role r : {Role::kPredict, Role::kObserve, Role::kAdmin}) {
    EXPECT_EQ(ParseRole(RoleName(r)), r);
  }
  EXPECT_EQ(ParseRole("Admin"), std::nullopt);
}

TEST(CheckAuthorizationTest, EveryOutcome) {
  const TokenTable table = *TokenTable::Parse(kTokens, "tokens");
  struct Case {
    const TokenTable* table;
    std::vector<std::string_view> authorization;
    Access access;
    bool predict_requires_auth;
    absl::StatusCode code;
    const char* reason;
    const char* message;
  } cases[] = {
      // No tokens configured: everything passes, whatever is sent.
      {nullptr, {}, Access::kAdmin, false, absl::StatusCode::kOk, "", ""},
      {nullptr, {"Bearer nonsense"}, Access::kObserve, false, absl::StatusCode::kOk, "", ""},
      // No token.
      {&table, {}, Access::kObserve, false, absl::StatusCode::kUnauthenticated,
       kReasonTokenMissing, "M needs a bearer token (metadata `authorization: Bearer TOKEN`) "
                            "with role observe or admin; the call sent none"},
      {&table, {}, Access::kRead, false, absl::StatusCode::kUnauthenticated,
       kReasonTokenMissing, "with role predict, observe or admin"},
      {&table, {}, Access::kPredict, false, absl::StatusCode::kOk, "", ""},
      {&table, {}, Access::kPredict, true, absl::StatusCode::kUnauthenticated,
       kReasonTokenMissing, "M needs a bearer token"},
      // A token that is not one: refused even where none is needed.
      {&table, {"Bearer not-a-configured-token"}, Access::kPredict, false,
       absl::StatusCode::kUnauthenticated, kReasonTokenInvalid,
       "the bearer token sent to M is not one of the server's (--auth_tokens_file)"},
      {&table, {"Basic dXNlcjpwYXNz"}, Access::kObserve, false,
       absl::StatusCode::kUnauthenticated, kReasonTokenInvalid, "is not a bearer token"},
      {&table, {"Bearer admin-token-0123456789ab", "Bearer admin-token-0123456789ab"},
       Access::kAdmin, false, absl::StatusCode::kUnauthenticated, kReasonTokenInvalid,
       "2 authorization values"},
      // The wrong role.
      {&table, {"Bearer predict-token-0123456789"}, Access::kObserve, false,
       absl::StatusCode::kPermissionDenied, kReasonRoleDenied,
       "M needs a token with role observe or admin; this token has role predict"},
      {&table, {"Bearer observe-token-0123456789"}, Access::kAdmin, false,
       absl::StatusCode::kPermissionDenied, kReasonRoleDenied, "this token has role observe"},
      // The right role (the scheme's case does not matter).
      {&table, {"bearer observe-token-0123456789"}, Access::kObserve, false,
       absl::StatusCode::kOk, "", ""},
      {&table, {"Bearer predict-token-0123456789"}, Access::kRead, false,
       absl::StatusCode::kOk, "", ""},
      {&table, {"Bearer admin-token-0123456789ab"}, Access::kAdmin, false,
       absl::StatusCode::kOk, "", ""},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::optional<Role>> r =
        CheckAuthorization(c.table, c.authorization, c.access, c.predict_requires_auth, "M");
    EXPECT_EQ(r.status().code(), c.code) << r.status();
    EXPECT_EQ(ErrorReason(r.status()), c.reason);
    EXPECT_NE(r.status().message().find(c.message), std::string::npos) << r.status();
  }
  auto admin = CheckAuthorization(&table, {"Bearer admin-token-0123456789ab"}, Access::kAdmin,
                                  false, "M");
  EXPECT_EQ(**admin, Role::kAdmin);
}

}  // namespace
}  // namespace streamrec::server::security
