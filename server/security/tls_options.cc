#include "server/security/tls_options.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>

#include "absl/strings/str_cat.h"
#include "grpc/grpc_security_constants.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "grpcpp/server_context.h"

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

absl::StatusOr<Bio> Open(const char* flag, const std::string& path) {
  Bio bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " ", path, ": cannot be read (", std::strerror(errno), ")"));
  }
  return bio;
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

absl::StatusOr<TlsFilesInfo> CheckTlsFiles(const TlsOptions& options) {
  TlsFilesInfo info;
  if (!options.enabled()) {
    if (!options.key.empty() || !options.client_ca.empty()) {
      return absl::InvalidArgumentError(
          "--tls_key and --tls_client_ca need --tls_cert (the server's certificate)");
    }
    return info;
  }
  if (options.key.empty()) {
    return absl::InvalidArgumentError("--tls_cert needs --tls_key (its private key)");
  }
  absl::StatusOr<Bio> cert_bio = Open("tls_cert", options.cert);
  if (!cert_bio.ok()) return cert_bio.status();
  Cert cert(PEM_read_bio_X509(cert_bio->get(), nullptr, nullptr, nullptr));
  if (!cert) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls_cert ", options.cert, ": not a PEM certificate (", OpenSslError(), ")"));
  }
  absl::StatusOr<Bio> key_bio = Open("tls_key", options.key);
  if (!key_bio.ok()) return key_bio.status();
  Key key(PEM_read_bio_PrivateKey(key_bio->get(), nullptr, nullptr, nullptr));
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
    absl::StatusOr<Bio> ca_bio = Open("tls_client_ca", options.client_ca);
    if (!ca_bio.ok()) return ca_bio.status();
    while (Cert ca{PEM_read_bio_X509(ca_bio->get(), nullptr, nullptr, nullptr)}) {
      ++info.client_ca_certificates;
    }
    ERR_clear_error();  // the end of the file reads as an error
    if (info.client_ca_certificates == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--tls_client_ca ", options.client_ca, ": holds no PEM certificate"));
    }
  }
  return info;
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
