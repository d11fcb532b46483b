#include "client/security.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "client/exit_codes.h"

namespace streamrec::client {
namespace {

// Setting: the flag's value, else the variable's (unset or empty: none).
std::optional<std::string> Setting(const Args& args, const std::string& flag, const char* env) {
  if (auto v = args.Get(flag)) return v;
  if (const char* e = std::getenv(env); e && *e) return std::string(e);
  return std::nullopt;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return false;  // reads as empty otherwise
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream text;
  text << in.rdbuf();
  *out = text.str();
  return true;
}

// TokenByteError: "" when every byte of `token` is printable ASCII (0x21 to 0x7e, which
// gRPC's metadata check takes: any other byte made it abort the process, printing the
// token), else why not, naming the offset of the first bad byte in `text` (`token`
// starts at `offset` of it), never a byte of the token itself.
std::string TokenByteError(const std::string& text, const std::string& token, size_t offset) {
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) {
    return " starts with a UTF-8 byte order mark (BOM); save the token as plain ASCII, without one";
  }
  for (size_t i = 0; i < token.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(token[i]);
    if (c < 0x21 || c > 0x7e) {
      const bool space = c == ' ' || c == '\t' || c == '\r' || c == '\n';
      return " holds a byte that is not printable ASCII (at offset " +
             std::to_string(offset + i) + ")" +
             (space ? ": a token is one word, with no spaces or lines" : "");
    }
  }
  return "";
}

// PemError: "" when `pem` holds a PEM block of `kind` ("CERTIFICATE", "PRIVATE
// KEY" for any key type), else why not; gRPC would otherwise fail every handshake and
// print its own error lines.
std::string PemError(const std::string& pem, const std::string& kind) {
  size_t at = 0;
  while ((at = pem.find("-----BEGIN ", at)) != std::string::npos) {
    const size_t dashes = pem.find("-----", at + 11);
    if (dashes == std::string::npos) break;
    const std::string label = pem.substr(at + 11, dashes - at - 11);
    const bool match = kind == "CERTIFICATE" ? label == "CERTIFICATE" || label == "TRUSTED CERTIFICATE"
                                             : label.size() >= kind.size() &&
                                                   label.compare(label.size() - kind.size(), kind.size(), kind) == 0;
    if (match && pem.find("-----END " + label + "-----", dashes) != std::string::npos) return "";
    at = dashes;
  }
  return kind == "CERTIFICATE" ? " holds no PEM certificate" : " holds no PEM private key";
}

std::string Trim(std::string s) {
  const char* space = " \t\r\n";
  const size_t b = s.find_first_not_of(space);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(space) - b + 1);
}

}  // namespace

SecurityError LoadSecurity(const Args& args, Security* out) {
  if (args.Has("tls")) {
    out->tls = true;
  } else if (const char* e = std::getenv("STREAMREC_TLS"); e && *e) {
    const std::string v = e;
    if (v == "1" || v == "true") {
      out->tls = true;
    } else if (v != "0" && v != "false") {
      return {kExitUsage, "$STREAMREC_TLS must be 1, true, 0 or false, not \"" + v + "\""};
    }
  }
  struct {
    const char* flag;
    const char* env;
    std::string* into;
  } files[] = {{"ca", "STREAMREC_CA", &out->root_certs},
               {"cert", "STREAMREC_CERT", &out->cert_chain},
               {"key", "STREAMREC_KEY", &out->private_key}};
  bool has_cert = false, has_key = false;
  for (const auto& f : files) {
    std::optional<std::string> path = Setting(args, f.flag, f.env);
    if (!path) continue;
    out->tls = true;
    if (std::string(f.flag) == "cert") has_cert = true;
    if (std::string(f.flag) == "key") has_key = true;
    if (!ReadFile(*path, f.into)) {
      return {kExitInput, std::string("--") + f.flag + " " + *path + ": cannot be read"};
    }
    const std::string bad = PemError(*f.into, std::string(f.flag) == "key" ? "PRIVATE KEY" : "CERTIFICATE");
    if (!bad.empty()) return {kExitInput, std::string("--") + f.flag + " " + *path + bad};
  }
  if (has_cert != has_key) {
    return {kExitUsage, "--cert and --key go together (the client certificate and its key)"};
  }
  if (auto path = args.Get("token_file")) {
    std::string text;
    if (!ReadFile(*path, &text)) return {kExitInput, "--token_file " + *path + ": cannot be read"};
    out->token = Trim(text);
    if (out->token.empty()) return {kExitInput, "--token_file " + *path + " is empty"};
    if (out->token.find_first_of(" \t\r\n") != std::string::npos) {
      return {kExitInput, "--token_file " + *path + " must hold one token (no spaces or lines)"};
    }
    const std::string bad = TokenByteError(text, out->token, text.find(out->token));
    if (!bad.empty()) {
      out->token.clear();
      return {kExitInput, "--token_file " + *path + bad};
    }
  } else if (const char* e = std::getenv("STREAMREC_TOKEN"); e && *e) {
    const std::string text = e;
    out->token = Trim(text);
    const std::string bad = TokenByteError(text, out->token, text.find(out->token));
    if (!bad.empty()) {
      out->token.clear();
      return {kExitUsage, "$STREAMREC_TOKEN" + bad};
    }
  }
  return {};
}

std::string AdminTarget(const std::string& server) {
  const size_t bracket = server.rfind(']');
  const size_t colon = server.rfind(':');
  // A port is the digits after the last ':' that follows any ']' (an IPv6 literal).
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
    const std::string port = server.substr(colon + 1);
    if (!port.empty() && port.find_first_not_of("0123456789") == std::string::npos) {
      return server.substr(0, colon) + ":50052";
    }
  }
  return server + ":50052";
}

}  // namespace streamrec::client
