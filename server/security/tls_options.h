// TLS for the server's listeners: the options of --tls_cert / --tls_key /
// --tls_client_ca, a check of those files, and the gRPC server credentials over them.
//
//   TlsOptions tls{.cert = "server.pem", .key = "server.key"};
//   absl::StatusOr<TlsFilesInfo> info = CheckTlsFiles(tls);   // at start and on SIGHUP
//   std::shared_ptr<grpc::ServerCredentials> creds = ServerCredentials(tls);
//
// The credentials read the files through gRPC's FileWatcherCertificateProvider, which
// re-reads them every `refresh_interval_s` and uses new contents for the handshakes that
// follow (connections already open keep theirs). gRPC 1.51 takes whatever it reads,
// garbage or a mismatched pair included, and every handshake then fails: so the server
// never points it at the operator's files but at private copies that only a check
// updates (server/security/tls_mirror.h). With `client_ca` set, every client must
// present a certificate signed by it (mutual TLS).
// Thread-safe (pure functions; the credentials are gRPC's).
#ifndef STREAMREC_SERVER_SECURITY_TLS_OPTIONS_H_
#define STREAMREC_SERVER_SECURITY_TLS_OPTIONS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_context.h"

namespace streamrec::server::security {

struct TlsOptions {
  std::string cert;       // PEM certificate chain; empty: plaintext listeners
  std::string key;        // PEM private key of the chain's first certificate
  std::string client_ca;  // PEM CA bundle; set: client certificates required (mTLS)
  int refresh_interval_s = 5;

  bool enabled() const { return !cert.empty(); }
};

// TlsFilesInfo: what the files hold, for the log: the server certificate's subject and
// expiry (UTC, "2027-01-31T12:00:00Z"), and how many CA certificates `client_ca` holds.
struct TlsFilesInfo {
  std::string subject, not_after;
  int client_ca_certificates = 0;
  bool expired = false;
};

// TlsPem: the content of the three files (client_ca empty when not set).
struct TlsPem {
  std::string cert, key, client_ca;
  bool operator==(const TlsPem&) const = default;
};

// ReadTlsFiles reads the files of `options` (regular files only, at most 1 MiB each):
// InvalidArgument naming the flag and file when one cannot be read; the flag
// combination errors of CheckTlsFiles. Options without TLS: OK, an empty TlsPem.
absl::StatusOr<TlsPem> ReadTlsFiles(const TlsOptions& options);

// CheckTlsPem: CheckTlsFiles over contents already read (`options` names the files in
// errors). The chain must be whole PEM certificates to its end (trailing text with no
// PEM block is ignored, as OpenSSL does), the key the first certificate's, the CA
// bundle whole certificates, at least one.
absl::StatusOr<TlsFilesInfo> CheckTlsPem(const TlsOptions& options, const TlsPem& pem);

// CheckTlsFiles: InvalidArgument naming the flag and file when a file cannot be read, is
// not PEM of the kind expected, or the key does not belong to the certificate; also when
// key or client_ca is set without cert, or cert without key. Options without TLS: OK,
// an empty info.
absl::StatusOr<TlsFilesInfo> CheckTlsFiles(const TlsOptions& options);

// ServerCredentials: insecure ones without TLS, else TLS credentials watching the files
// of `options` (gRPC only logs a bad file, and its handshakes then fail: pass files that
// checked and that change only to files that check, TlsMirror::served()).
std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const TlsOptions& options);

// PeerSubject: the subject of the client certificate a call's connection presented
// (mutual TLS), "" without one.
std::string PeerSubject(const grpc::ServerContextBase& context);

}  // namespace streamrec::server::security

#endif  // STREAMREC_SERVER_SECURITY_TLS_OPTIONS_H_
