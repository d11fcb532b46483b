// Event formats read by `streamrec replay` and written by `streamrec generate`.
//   jsonl   one streamrec.v1.Event per line in the API's proto3 JSON mapping, e.g.
//           {"context":{"values":{"user":{"category":"u1"}}},"item":{"id":"m7"},"label":1}
//   criteo  tab-separated: label, 13 numeric columns I1..I13 (integers or reals), 26
//           categorical columns C1..C26; empty fields are missing. I_k becomes the number
//           sign(x) * ln(1 + |x|) (so counts stay in a range linear models handle);
//           C_k the category C_k=value; all are context features of an item with the
//           constant id "criteo" (the layout does not say which columns describe the ad).
//   csv     comma-separated with a header line naming the columns (RFC 4180 quoting:
//           "a, b" and "" inside quotes). CsvLayout says which column is the label (a
//           number in [0, 1]), which the item id (else the constant id "csv"), and which
//           are numbers; every other column is a categorical context field named after
//           its column. Empty values are missing.
// jsonl lines are read by JsonEventParser (client/event_json.h): simdjson, with protobuf's
// JSON parser for what its fast path does not take; the result is protobuf's either way.
// Pure functions (ParseEventLine keeps a JSON parser per thread); EventParser is
// thread-compatible.
#ifndef STREAMREC_CLIENT_EVENT_FORMATS_H_
#define STREAMREC_CLIENT_EVENT_FORMATS_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "client/event_json.h"
#include "streamrec/v1/streamrec.pb.h"

namespace streamrec::client {

enum class Format { kJsonl, kCriteo, kCsv };

// CsvLayout: how csv columns become an event (--label, --item, --numeric).
struct CsvLayout {
  std::string label = "label";
  std::string item;                  // empty: the constant item id "csv"
  std::vector<std::string> numeric;  // columns read as numbers
};

// EventParser: a format, and for csv the columns its header named.
class EventParser {
 public:
  EventParser(Format format, CsvLayout layout) : format_(format), layout_(std::move(layout)) {}
  Format format() const { return format_; }
  // NeedsHeader: csv until Header has read the header line.
  bool NeedsHeader() const { return format_ == Format::kCsv && columns_.empty(); }
  // Header reads the csv header; false with `error` naming a column --label, --item or
  // --numeric names that the header lacks, or a column named twice.
  bool Header(const std::string& line, std::string& error);
  // Parse reads one data line into `event` (cleared first); false with `error` (the
  // reason, without file or line number) when it is malformed.
  bool Parse(const std::string& line, v1::Event& event, std::string& error);

 private:
  enum class Role { kCategory, kNumber, kLabel, kItem };
  Format format_;
  CsvLayout layout_;
  std::vector<std::string> columns_;
  std::vector<Role> roles_;
  JsonEventParser json_;  // jsonl
};

// SplitCsv splits one csv line (RFC 4180 quoting); false with `error` on an unclosed
// quote.
bool SplitCsv(const std::string& line, std::vector<std::string>& fields, std::string& error);

// ParseFormat maps "jsonl" / "criteo" / "csv" to a Format.
std::optional<Format> ParseFormat(const std::string& name);
// DetectFormat guesses from a file's first non-empty line: `{` starts jsonl.
Format DetectFormat(const std::string& first_line);

// ParseEventLine parses one line; on failure returns false with `error` set to the
// reason (without file or line number).
bool ParseEventLine(Format format, const std::string& line, v1::Event& event,
                    std::string& error);

// AppendCriteoEvent appends a criteo line to `out` as one element of
// ObserveRequest.events in protobuf's wire format (field 1's tag, the length, then the
// Event), with `event_id` when not empty: the Event ParseEventLine gives, with that id,
// without building it (its map entries in column order). False with `error` as
// ParseEventLine; `out` is then unchanged.
bool AppendCriteoEvent(const std::string& line, std::string_view event_id, std::string& out,
                       std::string& error);

// FormatEventLine writes an event as one line (no newline). For criteo only `label` and
// the context's categories named C1..C26 and numbers I1..I13 are written.
std::string FormatEventLine(Format format, const v1::Event& event);

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_EVENT_FORMATS_H_
