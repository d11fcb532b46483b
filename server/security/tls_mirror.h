// TlsMirror: the TLS files gRPC actually serves: private copies of --tls_cert, --tls_key
// and --tls_client_ca that change only to contents that check. gRPC 1.51's
// FileWatcherCertificateProvider loads whatever it reads (a half-written PEM, garbage, a
// key that is not the certificate's), after which every new handshake fails while
// health stays SERVING; watching copies that only a check updates keeps the last good
// certificate in service instead.
//
//   absl::StatusOr<std::unique_ptr<TlsMirror>> m = TlsMirror::Create(options.tls);
//   std::shared_ptr<grpc::ServerCredentials> c = ServerCredentials((*m)->served());
//   (*m)->Start();                      // re-checks every refresh_interval_s
//   (*m)->Refresh(/*requested=*/true);  // SIGHUP
//
// The copies live in a directory of the process's own (mkdtemp: $TMPDIR or /tmp,
// "streamrec-tls-XXXXXX", mode 0700, files 0600; removed by the destructor):
// DIR/gen-N/{cert,key,client_ca}.pem, and DIR/live, a symlink to the newest generation,
// through which gRPC's watcher reads them every second. A refresh reads the operator's
// files once, checks those bytes (CheckTlsPem), and when they check and differ from what
// is served, writes them as a new generation and swaps the symlink with rename(2): gRPC
// never reads a file half-written, nor a key without its certificate (both change in
// one rename). When they do not check, the copies stay and an ERROR record says so
// ("tls files do not check; still serving the previous certificate"): once per distinct
// content on the periodic check, every time on a requested one. Each new content that
// checks is logged ("tls files checked", with the subject and expiry).
// Thread-safe: Refresh from any thread, concurrently with the periodic one; Create,
// Start and the destructor from the owner thread.
#ifndef STREAMREC_SERVER_SECURITY_TLS_MIRROR_H_
#define STREAMREC_SERVER_SECURITY_TLS_MIRROR_H_

#include <condition_variable>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "server/core/mutex.h"
#include "server/security/tls_options.h"

namespace streamrec::server::security {

class TlsMirror {
 public:
  // Create checks the files of `options` (TLS enabled), logs what they hold, and writes
  // the first copies. The error of CheckTlsFiles when they do not check; Internal when
  // the private directory cannot be made or written.
  static absl::StatusOr<std::unique_ptr<TlsMirror>> Create(const TlsOptions& options);
  ~TlsMirror();  // stops the periodic check, removes the directory
  TlsMirror(const TlsMirror&) = delete;
  TlsMirror& operator=(const TlsMirror&) = delete;

  // served: the options for ServerCredentials: the copies' paths, re-read every second.
  TlsOptions served() const;

  // Start runs Refresh(false) every options.refresh_interval_s on a thread of its own.
  void Start();

  // Refresh reads and checks the operator's files now. OK when they check (and are now
  // served); their error otherwise, the previous copies being kept. `requested` (SIGHUP)
  // logs the outcome even when the content is the one seen last.
  absl::Status Refresh(bool requested);

  const std::string& directory() const { return dir_; }

 private:
  TlsMirror(TlsOptions options, std::string dir) : options_(std::move(options)), dir_(std::move(dir)) {}
  absl::Status Stage(const TlsPem& pem) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const TlsOptions options_;  // the operator's files
  const std::string dir_;
  core::Mutex mu_;
  TlsPem served_ ABSL_GUARDED_BY(mu_);
  std::string seen_ ABSL_GUARDED_BY(mu_);       // the last content (or read error) handled
  absl::Status seen_status_ ABSL_GUARDED_BY(mu_);
  int generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::condition_variable_any wake_;
  std::thread thread_;
};

}  // namespace streamrec::server::security

#endif  // STREAMREC_SERVER_SECURITY_TLS_MIRROR_H_
