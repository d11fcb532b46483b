#include "server/security/tls_mirror.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace streamrec::server::security {
namespace {

constexpr char kCert[] = "cert.pem", kKey[] = "key.pem", kClientCa[] = "client_ca.pem";

std::string Generation(int n) { return absl::StrCat("gen-", n); }

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

absl::Status WriteFile(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create " + path);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status s = Errno("cannot write " + path);
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return Errno("cannot write " + path);
  return absl::OkStatus();
}

void LogChecked(const TlsOptions& tls, const TlsFilesInfo& info) {
  log::Info("tls files checked", {{"cert", tls.cert},
                                  {"subject", info.subject},
                                  {"not_after", info.not_after},
                                  {"client_ca_certificates", info.client_ca_certificates}});
  if (info.expired) {
    log::Warning("tls certificate expired", {{"cert", tls.cert}, {"not_after", info.not_after}});
  }
}

// Key: what identifies one content of the files (or one failure to read them), so
// that the same bad content is reported once.
std::string Key(const absl::StatusOr<TlsPem>& pem) {
  if (!pem.ok()) return absl::StrCat("error\n", pem.status().message());
  return absl::StrCat("pem\n", pem->cert.size(), ":", pem->cert, pem->key.size(), ":",
                      pem->key, pem->client_ca);
}

}  // namespace

absl::StatusOr<std::unique_ptr<TlsMirror>> TlsMirror::Create(const TlsOptions& options) {
  absl::StatusOr<TlsPem> pem = ReadTlsFiles(options);
  if (!pem.ok()) return pem.status();
  absl::StatusOr<TlsFilesInfo> info = CheckTlsPem(options, *pem);
  if (!info.ok()) return info.status();
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = absl::StrCat(tmp != nullptr && *tmp ? tmp : "/tmp", "/streamrec-tls-XXXXXX");
  if (::mkdtemp(pattern.data()) == nullptr) {  // mode 0700
    return absl::InternalError(absl::StrCat(
        "cannot make a private directory for the TLS files (", pattern, "): ", std::strerror(errno),
        "; set TMPDIR to a writable directory"));
  }
  std::unique_ptr<TlsMirror> m(new TlsMirror(options, pattern));
  {
    core::MutexLock lock(&m->mu_);
    if (absl::Status s = m->Stage(*pem); !s.ok()) return s;
    m->seen_ = Key(pem);
  }
  LogChecked(options, *info);
  return m;
}

TlsMirror::~TlsMirror() {
  {
    core::MutexLock lock(&mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

TlsOptions TlsMirror::served() const {
  const std::string live = dir_ + "/live/";
  TlsOptions s;
  s.cert = live + kCert;
  s.key = live + kKey;
  if (!options_.client_ca.empty()) s.client_ca = live + kClientCa;
  s.refresh_interval_s = 1;  // local copies that change only on a good update: cheap
  return s;
}

void TlsMirror::Start() {
  thread_ = std::thread([this] {
    const auto interval = std::chrono::seconds(options_.refresh_interval_s);
    core::UniqueLock lock(&mu_);
    while (!stop_) {
      const auto until = std::chrono::steady_clock::now() + interval;
      while (!stop_ && std::chrono::steady_clock::now() < until) wake_.wait_until(lock, until);
      if (stop_) break;
      lock.unlock();
      Refresh(false).IgnoreError();
      lock.lock();
    }
  });
}

absl::Status TlsMirror::Refresh(bool requested) {
  const absl::StatusOr<TlsPem> pem = ReadTlsFiles(options_);
  std::string key = Key(pem);
  core::MutexLock lock(&mu_);
  if (key == seen_ && !requested) return seen_status_;
  seen_ = std::move(key);
  absl::Status status = pem.status();
  absl::StatusOr<TlsFilesInfo> info;
  if (status.ok()) {
    info = CheckTlsPem(options_, *pem);
    status = info.status();
  }
  if (status.ok() && !(*pem == served_)) status = Stage(*pem);
  seen_status_ = status;
  if (status.ok()) {
    LogChecked(options_, *info);
  } else {
    log::Error("tls files do not check; still serving the previous certificate",
               {{"cert", options_.cert}, {"error", std::string(status.message())}});
  }
  return status;
}

absl::Status TlsMirror::Stage(const TlsPem& pem) {
  const int next = generation_ + 1;
  const std::string gen = dir_ + "/" + Generation(next);
  std::error_code ec;
  std::filesystem::remove_all(gen, ec);  // left by a failed attempt
  if (::mkdir(gen.c_str(), 0700) != 0) return Errno("cannot create " + gen);
  absl::Status s = WriteFile(gen + "/" + kCert, pem.cert);
  if (s.ok()) s = WriteFile(gen + "/" + kKey, pem.key);
  if (s.ok() && !options_.client_ca.empty()) s = WriteFile(gen + "/" + kClientCa, pem.client_ca);
  const std::string link = dir_ + "/live.new";
  if (s.ok()) {
    ::unlink(link.c_str());
    if (::symlink(Generation(next).c_str(), link.c_str()) != 0) s = Errno("cannot create " + link);
  }
  if (s.ok() && ::rename(link.c_str(), (dir_ + "/live").c_str()) != 0) {
    s = Errno("cannot rename " + link);
  }
  if (!s.ok()) {
    std::filesystem::remove_all(gen, ec);
    return absl::InternalError(
        absl::StrCat("the TLS files checked but could not be copied for gRPC: ", s.message()));
  }
  // The generation before the previous one: gRPC's watcher, which reads the files
  // through the symlink within microseconds, is long done with it.
  if (generation_ >= 1) std::filesystem::remove_all(dir_ + "/" + Generation(generation_ - 1), ec);
  generation_ = next;
  served_ = pem;
  return absl::OkStatus();
}

}  // namespace streamrec::server::security
