#include "client/security.h"

#include <cstdlib>
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
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream text;
  text << in.rdbuf();
  *out = text.str();
  return true;
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
  } else if (const char* e = std::getenv("STREAMREC_TOKEN"); e && *e) {
    out->token = Trim(e);
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
