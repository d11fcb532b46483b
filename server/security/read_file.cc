#include "server/security/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace streamrec::server::security {
namespace {

absl::Status CannotRead(const std::string& flag, const std::string& path, int error) {
  const std::string message =
      absl::StrCat(flag, " ", path, ": cannot be read (", std::strerror(error), ")");
  return error == EACCES || error == EPERM ? absl::PermissionDeniedError(message)
                                           : absl::NotFoundError(message);
}

absl::Status NotRegular(const std::string& flag, const std::string& path, mode_t mode) {
  return absl::InvalidArgumentError(absl::StrCat(
      flag, " ", path, S_ISDIR(mode) ? ": is a directory, not a file" : ": is not a regular file"));
}

}  // namespace

absl::StatusOr<std::string> ReadRegularFile(const std::string& flag, const std::string& path,
                                            size_t max_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return CannotRead(flag, path, errno);
  if (!S_ISREG(st.st_mode)) return NotRegular(flag, path, st.st_mode);
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return CannotRead(flag, path, errno);
  std::string text;
  absl::Status status;
  if (::fstat(fd, &st) != 0) {
    status = CannotRead(flag, path, errno);
  } else if (!S_ISREG(st.st_mode)) {
    status = NotRegular(flag, path, st.st_mode);
  } else {
    char buf[64 * 1024];
    while (true) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        status = CannotRead(flag, path, errno);
        break;
      }
      if (n == 0) break;
      text.append(buf, static_cast<size_t>(n));
      if (text.size() > max_bytes) {
        status = absl::InvalidArgumentError(
            absl::StrCat(flag, " ", path, ": larger than ", max_bytes, " bytes"));
        break;
      }
    }
  }
  ::close(fd);
  if (!status.ok()) return status;
  return text;
}

}  // namespace streamrec::server::security
