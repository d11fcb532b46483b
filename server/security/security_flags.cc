#include "server/security/security_flags.h"

#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"

ABSL_FLAG(std::string, admin_listen, "127.0.0.1:50052",
          "Address of the admin port (host:port): SaveSnapshot, Rollback, ExportSnapshot, "
          "ImportSnapshot are served there only; empty: no admin port.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain of every listener; empty: plaintext. Re-read on change.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA bundle: clients must present a certificate it signed (mutual TLS).");
ABSL_FLAG(int64_t, tls_refresh_interval_s, 5,
          "How often the TLS files are re-read for changes (seconds, 1 to 3600).");
ABSL_FLAG(std::string, auth_tokens_file, "",
          "File of `TOKEN ROLE` lines (roles predict, observe, admin); set: Observe and "
          "Admin need a bearer token. Reloaded on SIGHUP.");
ABSL_FLAG(bool, predict_requires_auth, false,
          "Predict needs a bearer token too (any role); needs --auth_tokens_file.");

namespace streamrec::server::security {

std::string AdminListenFlag() { return absl::GetFlag(FLAGS_admin_listen); }

absl::Status ApplySecurityFlags(ServerOptions& options) {
  options.admin_listen = absl::GetFlag(FLAGS_admin_listen);
  const bool any_port = options.admin_listen.size() >= 2 &&
                        options.admin_listen.compare(options.admin_listen.size() - 2, 2, ":0") == 0;
  if (!options.admin_listen.empty() && !any_port && options.admin_listen == options.listen) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--admin_listen must differ from --listen (both are ", options.listen, ")"));
  }
  options.tls.cert = absl::GetFlag(FLAGS_tls_cert);
  options.tls.key = absl::GetFlag(FLAGS_tls_key);
  options.tls.client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  const int64_t refresh = absl::GetFlag(FLAGS_tls_refresh_interval_s);
  if (refresh < 1 || refresh > 3600) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls_refresh_interval_s must be in [1, 3600], got ", refresh));
  }
  options.tls.refresh_interval_s = static_cast<int>(refresh);
  options.auth.tokens_file = absl::GetFlag(FLAGS_auth_tokens_file);
  options.auth.predict_requires_auth = absl::GetFlag(FLAGS_predict_requires_auth);
  if (options.auth.predict_requires_auth && options.auth.tokens_file.empty()) {
    return absl::InvalidArgumentError(
        "--predict_requires_auth needs --auth_tokens_file (the tokens to require)");
  }
  return absl::OkStatus();
}

}  // namespace streamrec::server::security
