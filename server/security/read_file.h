// ReadRegularFile: the whole content of a small file the server re-reads while it runs
// (the tokens file, the TLS files), refusing anything that is not a regular file before
// opening it: a directory, a FIFO (whose open would block the reading thread until a
// writer came), a device. The file is opened with O_NONBLOCK all the same, and checked
// again through the open descriptor, so a FIFO swapped in between cannot block either.
//
//   absl::StatusOr<std::string> text = ReadRegularFile("--auth_tokens_file", path);
//
// Errors name `flag` and `path`: NotFound / PermissionDenied (cannot be read, with the
// reason), InvalidArgument (a directory or another non-regular file, or larger than
// `max_bytes`). Thread-safe (no state).
#ifndef STREAMREC_SERVER_SECURITY_READ_FILE_H_
#define STREAMREC_SERVER_SECURITY_READ_FILE_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace streamrec::server::security {

absl::StatusOr<std::string> ReadRegularFile(const std::string& flag, const std::string& path,
                                            size_t max_bytes = size_t{16} << 20);

}  // namespace streamrec::server::security

#endif  // STREAMREC_SERVER_SECURITY_READ_FILE_H_
