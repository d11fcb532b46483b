// Error text built from client input. Every client string echoed in an error message
// (feature names, ids, ...) goes through QuoteForError, so a message stays short and
// printable whatever the client sent: a 10 KB id would otherwise push the message past
// gRPC's metadata limit (the client then sees RESOURCE_EXHAUSTED, not our error), and
// control characters would land raw in clients' logs and terminals. CapErrorMessage is
// the last line of defence, applied to every message by ToGrpcStatus.
//
//   Invalid(absl::StrCat("duplicate candidate id ", QuoteForError(id)));
//   // duplicate candidate id "xxxx...xxxx"... (10240 bytes)
//
// Pure functions, callable from any thread.
#ifndef STREAMREC_SERVER_ERROR_TEXT_H_
#define STREAMREC_SERVER_ERROR_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace streamrec::server {

// Client bytes quoted in one error message, and the longest message we send.
inline constexpr size_t kMaxQuotedBytes = 64;
inline constexpr size_t kMaxErrorMessageBytes = 1024;

// QuoteForError returns `s` in double quotes: `"` and `\` backslash-escaped; control
// characters (C0, DEL, C1) and bytes that are not valid UTF-8 as \xNN; other UTF-8 kept.
// When `s` is longer than max_bytes, only its first max_bytes (whole characters) are
// shown, followed by `... (N bytes)` with the full length N.
std::string QuoteForError(std::string_view s, size_t max_bytes = kMaxQuotedBytes);

// CapErrorMessage returns `message` when it has at most max_bytes, else its first
// max_bytes (whole UTF-8 characters) followed by `... (message of N bytes truncated)`.
std::string CapErrorMessage(std::string_view message, size_t max_bytes = kMaxErrorMessageBytes);

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_ERROR_TEXT_H_
