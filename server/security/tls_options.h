// TLS for the server's listeners: the options of --tls_cert / --tls_key /
// --tls_client_ca, a check of those files, and the gRPC server credentials over them.
//
//   TlsOptions tls{.cert = "server.pem", .key = "server.key"};
//   absl::StatusOr<TlsFilesInfo> info = CheckTlsFiles(tls);   // at start and on SIGHUP
//   std::shared_ptr<grpc::ServerCredentials> creds = ServerCredentials(tls);
//
// The credentials read the files through gRPC's FileWatcherCertificateProvider, which
// re-reads them every `refresh_interval_s` and uses new contents for the handshakes that
// follow (connections already open keep theirs), so a rotated certificate needs no
// restart. Replace the files atomically (write elsewhere, then rename, or swap a
// directory symlink as Kubernetes does): the provider retries a read that sees a file
// change underneath it, but a key and certificate renamed one after the other may be
// read as a mismatched pair for up to one interval. With `client_ca` set, every client
// must present a certificate signed by it (mutual TLS).
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

// CheckTlsFiles: InvalidArgument naming the flag and file when a file cannot be read, is
// not PEM of the kind expected, or the key does not belong to the certificate; also when
// key or client_ca is set without cert, or cert without key. Options without TLS: OK,
// an empty info.
absl::StatusOr<TlsFilesInfo> CheckTlsFiles(const TlsOptions& options);

// ServerCredentials: insecure ones without TLS, else TLS credentials watching the files
// (call CheckTlsFiles first: gRPC only logs a bad file, and its handshakes then fail).
std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const TlsOptions& options);

// PeerSubject: the subject of the client certificate a call's connection presented
// (mutual TLS), "" without one.
std::string PeerSubject(const grpc::ServerContextBase& context);

}  // namespace streamrec::server::security

#endif  // STREAMREC_SERVER_SECURITY_TLS_OPTIONS_H_
