#include "server/security/tls_options.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <memory>

#include "absl/strings/str_cat.h"
#include "grpc/grpc_security_constants.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "grpcpp/server_context.h"
#include "server/security/read_file.h"

namespace streamrec::server::security {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

std::string OpenSslError() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "no PEM data of the expected kind";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

Bio MemBio(const std::string& text) {
  return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// AtEndOfPem: whether the PEM read that just failed failed because no PEM block was
// left (the normal end of a file: trailing text without a BEGIN line is ignored, as by
// OpenSSL's SSL_CTX_use_certificate_chain_file), rather than on a broken block.
bool AtEndOfPem() {
  const unsigned long e = ERR_peek_last_error();
  const bool end = e == 0 || (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE);
  return end;
}

std::string Name(X509_NAME* name) {
  Bio out(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(out.get(), name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long n = BIO_get_mem_data(out.get(), &data);
  return std::string(data, n > 0 ? static_cast<size_t>(n) : 0);
}

std::string Time(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return "?";
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

absl::StatusOr<TlsPem> ReadTlsFiles(const TlsOptions& options) {
  TlsPem pem;
  if (!options.enabled()) {
    if (!options.key.empty() || !options.client_ca.empty()) {
      return absl::InvalidArgumentError(
          "--tls_key and --tls_client_ca need --tls_cert (the server's certificate)");
    }
    return pem;
  }
  if (options.key.empty()) {
    return absl::InvalidArgumentError("--tls_cert needs --tls_key (its private key)");
  }
  struct {
    const char* flag;
    const std::string& path;
    std::string* into;
  } files[] = {{"--tls_cert", options.cert, &pem.cert},
               {"--tls_key", options.key, &pem.key},
               {"--tls_client_ca", options.client_ca, &pem.client_ca}};
  for (const auto& f : files) {
    if (f.path.empty()) continue;
    absl::StatusOr<std::string> text = ReadRegularFile(f.flag, f.path, size_t{1} << 20);
    if (!text.ok()) return absl::InvalidArgumentError(text.status().message());
    *f.into = *std::move(text);
  }
  return pem;
}

absl::StatusOr<TlsFilesInfo> CheckTlsPem(const TlsOptions& options, const TlsPem& pem) {
  TlsFilesInfo info;
  if (!options.enabled()) return info;
  ERR_clear_error();
  Bio cert_bio = MemBio(pem.cert);
  Cert cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls_cert ", options.cert, ": not a PEM certificate (", OpenSslError(), ")"));
  }
  // The rest of the chain, as gRPC will read it: every further block must be a whole
  // certificate (a file caught half-written fails here, not in every handshake).
  int chain = 1;
  while (Cert next{PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)}) ++chain;
  if (!AtEndOfPem()) {
    return absl::InvalidArgumentError(absl::StrCat("--tls_cert ", options.cert,
                                                   ": certificate ", chain + 1,
                                                   " of the chain is not whole PEM (",
                                                   OpenSslError(), ")"));
  }
  ERR_clear_error();
  Bio key_bio = MemBio(pem.key);
  Key key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls_key ", options.key, ": not a PEM private key (", OpenSslError(), ")"));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat("--tls_key ", options.key,
                                                   " is not the key of --tls_cert ",
                                                   options.cert));
  }
  info.subject = Name(X509_get_subject_name(cert.get()));
  info.not_after = Time(X509_get0_notAfter(cert.get()));
  info.expired = X509_cmp_current_time(X509_get0_notAfter(cert.get())) < 0;
  if (!options.client_ca.empty()) {
    Bio ca_bio = MemBio(pem.client_ca);
    while (Cert ca{PEM_read_bio_X509(ca_bio.get(), nullptr, nullptr, nullptr)}) {
      ++info.client_ca_certificates;
    }
    const bool whole = AtEndOfPem();
    const std::string why = whole ? "" : OpenSslError();
    ERR_clear_error();  // the end of the file reads as an error
    if (info.client_ca_certificates == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--tls_client_ca ", options.client_ca, ": holds no PEM certificate"));
    }
    if (!whole) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--tls_client_ca ", options.client_ca, ": certificate ",
          info.client_ca_certificates + 1, " is not whole PEM (", why, ")"));
    }
  }
  return info;
}

absl::StatusOr<TlsFilesInfo> CheckTlsFiles(const TlsOptions& options) {
  absl::StatusOr<TlsPem> pem = ReadTlsFiles(options);
  if (!pem.ok()) return pem.status();
  return CheckTlsPem(options, *pem);
}

std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const TlsOptions& options) {
  if (!options.enabled()) return grpc::InsecureServerCredentials();
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      options.key, options.cert, options.client_ca,
      static_cast<unsigned int>(std::max(1, options.refresh_interval_s)));
  grpc::experimental::TlsServerCredentialsOptions tls(provider);
  tls.watch_identity_key_cert_pairs();
  if (!options.client_ca.empty()) {
    tls.watch_root_certs();
    tls.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    tls.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(tls);
}

std::string PeerSubject(const grpc::ServerContextBase& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (!auth) return "";
  std::vector<grpc::string_ref> subject = auth->FindPropertyValues(GRPC_X509_SUBJECT_PROPERTY_NAME);
  if (subject.empty()) return "";
  return std::string(subject[0].data(), subject[0].size());
}

}  // namespace streamrec::server::security
