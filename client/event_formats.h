// Event formats read by `streamrec replay` and written by `streamrec generate`.
//   jsonl   one streamrec.v1.Event per line in the API's proto3 JSON mapping, e.g.
//           {"context":{"values":{"user":{"category":"u1"}}},"item":{"id":"m7"},"label":1}
//   criteo  tab-separated: label, 13 integer columns I1..I13, 26 categorical columns
//           C1..C26; empty fields are missing. I_k becomes the number
//           sign(x) * ln(1 + |x|) (so counts stay in a range linear models handle);
//           C_k the category C_k=value; all are context features of an item with the
//           constant id "criteo" (the layout does not say which columns describe the ad).
// Pure functions.
#ifndef STREAMREC_CLIENT_EVENT_FORMATS_H_
#define STREAMREC_CLIENT_EVENT_FORMATS_H_

#include <optional>
#include <string>

#include "streamrec/v1/streamrec.pb.h"

namespace streamrec::client {

enum class Format { kJsonl, kCriteo };

// ParseFormat maps "jsonl" / "criteo" to a Format.
std::optional<Format> ParseFormat(const std::string& name);
// DetectFormat guesses from a file's first non-empty line: `{` starts jsonl.
Format DetectFormat(const std::string& first_line);

// ParseEventLine parses one line; on failure returns false with `error` set to the
// reason (without file or line number).
bool ParseEventLine(Format format, const std::string& line, v1::Event& event,
                    std::string& error);

// FormatEventLine writes an event as one line (no newline). For criteo only `label` and
// the context's categories named C1..C26 and numbers I1..I13 are written.
std::string FormatEventLine(Format format, const v1::Event& event);

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_EVENT_FORMATS_H_
