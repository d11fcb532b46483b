#include "server/error_text.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace streamrec::server {
namespace {

// Utf8Length returns the length of the valid UTF-8 character at the start of s, or 0
// when s does not start with one (stray continuation byte, overlong form, surrogate,
// beyond U+10FFFF, or cut short).
size_t Utf8Length(std::string_view s) {
  const auto b = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t c = b(0);
  if (c < 0x80) return 1;
  size_t n;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // no overlong forms
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;  // at most U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < n || b(1) < lo || b(1) > hi) return 0;
  for (size_t i = 2; i < n; ++i) {
    if (b(i) < 0x80 || b(i) > 0xBF) return 0;
  }
  return n;
}

// PrefixLength returns the length of the longest prefix of s of at most max_bytes that
// does not split a valid UTF-8 character.
size_t PrefixLength(std::string_view s, size_t max_bytes) {
  size_t i = 0;
  while (i < s.size()) {
    const size_t n = std::max<size_t>(Utf8Length(s.substr(i)), 1);
    if (i + n > max_bytes) break;
    i += n;
  }
  return i;
}

}  // namespace

std::string QuoteForError(std::string_view s, size_t max_bytes) {
  const size_t shown = PrefixLength(s, max_bytes);
  std::string out = "\"";
  for (size_t i = 0; i < shown;) {
    const uint8_t c = static_cast<uint8_t>(s[i]);
    const size_t n = Utf8Length(s.substr(i));
    // C1 controls (U+0080..U+009F) are the UTF-8 pairs C2 80..C2 9F.
    const bool control = c < 0x20 || c == 0x7F ||
                         (n == 2 && c == 0xC2 && static_cast<uint8_t>(s[i + 1]) < 0xA0);
    if (n == 0 || control) {
      for (size_t k = 0; k < std::max<size_t>(n, 1); ++k) {
        absl::StrAppendFormat(&out, "\\x%02x", static_cast<uint8_t>(s[i + k]));
      }
      i += std::max<size_t>(n, 1);
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out.append(s.substr(i, n));
    i += n;
  }
  out += '"';
  if (shown < s.size()) absl::StrAppend(&out, "... (", s.size(), " bytes)");
  return out;
}

std::string CapErrorMessage(std::string_view message, size_t max_bytes) {
  if (message.size() <= max_bytes) return std::string(message);
  std::string out(message.substr(0, PrefixLength(message, max_bytes)));
  absl::StrAppend(&out, "... (message of ", message.size(), " bytes truncated)");
  return out;
}

}  // namespace streamrec::server
