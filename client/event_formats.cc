#include "client/event_formats.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <system_error>
#include <vector>

#include "client/event_json.h"
#include "google/protobuf/util/json_util.h"

namespace streamrec::client {
namespace {

constexpr int kCriteoInts = 13, kCriteoCats = 26;

std::vector<std::string> SplitTabs(const std::string& line) {
  std::vector<std::string> out(1);
  for (char c : line) {
    if (c == '\t') {
      out.emplace_back();
    } else if (c != '\r' && c != '\n') {
      out.back() += c;
    }
  }
  return out;
}

// ParseNumber: the whole of `s` is a finite number (integer or real).
bool ParseNumber(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(out);
}

// ParseCriteoSlow: the reader before ParseCriteo, for lines with a carriage return or a
// newline anywhere (each one is dropped, as if it were not there).
bool ParseCriteoSlow(const std::string& line, v1::Event& event, std::string& error) {
  const std::vector<std::string> f = SplitTabs(line);
  if (f.size() != 1 + kCriteoInts + kCriteoCats) {
    error = "expected 40 tab-separated fields (label, I1..I13, C1..C26), found " +
            std::to_string(f.size());
    return false;
  }
  if (f[0] != "0" && f[0] != "1") {
    error = "label \"" + f[0] + "\" is not 0 or 1";
    return false;
  }
  event.set_label(f[0] == "1" ? 1.0 : 0.0);
  auto& values = *event.mutable_context()->mutable_values();
  for (int k = 1; k <= kCriteoInts; ++k) {
    const std::string& s = f[k];
    if (s.empty()) continue;
    double x = 0;
    if (!ParseNumber(s, x)) {
      error = "I" + std::to_string(k) + " \"" + s + "\" is not a finite number";
      return false;
    }
    values["I" + std::to_string(k)].set_number(x >= 0 ? std::log1p(x) : -std::log1p(-x));
  }
  for (int k = 1; k <= kCriteoCats; ++k) {
    const std::string& s = f[kCriteoInts + k];
    if (!s.empty()) values["C" + std::to_string(k)].set_category(s);
  }
  event.mutable_item()->set_id("criteo");
  return true;
}

// The features' names: kNames[k] is I1..I13 for k = 1..13, C1..C26 for k = 14..39.
const std::array<std::string, 1 + kCriteoInts + kCriteoCats>& CriteoNames() {
  static const auto* names = [] {
    auto* n = new std::array<std::string, 1 + kCriteoInts + kCriteoCats>();
    for (int k = 1; k <= kCriteoInts; ++k) (*n)[k] = "I" + std::to_string(k);
    for (int k = 1; k <= kCriteoCats; ++k) (*n)[kCriteoInts + k] = "C" + std::to_string(k);
    return n;
  }();
  return *names;
}

// CriteoNumber: ParseNumber without a copy for what std::from_chars reads (its syntax is
// strtod's without leading blanks, '+' and hex, and both round correctly); the rest
// (those, and out of range) through ParseNumber itself.
bool CriteoNumber(std::string_view s, double& out) {
  const char* const end = s.data() + s.size();
  const auto r = std::from_chars(s.data(), end, out);
  if (r.ec == std::errc() && r.ptr == end) return std::isfinite(out);
  return ParseNumber(std::string(s), out);
}

// SignedLog1p: sign(x) * ln(1 + |x|), the criteo reader's transform of I1..I13.
double SignedLog1p(double x) { return x >= 0 ? std::log1p(x) : -std::log1p(-x); }

// CriteoFeature: the transformed value of an I column. The counts criteo files hold are
// mostly small integers of a few digits: those come from a table of std::log1p (the same
// doubles the call gives: strtod reads digits exactly below 2^53), the rest through
// CriteoNumber.
bool CriteoFeature(std::string_view s, double& out) {
  constexpr uint32_t kTable = 4096;
  static const auto* table = [] {
    auto* t = new std::array<double, kTable>();
    for (uint32_t i = 0; i < kTable; ++i) (*t)[i] = std::log1p(static_cast<double>(i));
    return t;
  }();
  if (s.size() <= 4) {
    uint32_t v = 0;
    bool digits = true;
    for (const char c : s) {
      digits = digits && c >= '0' && c <= '9';
      v = v * 10 + static_cast<uint32_t>(c - '0');
    }
    if (digits && v < kTable) {
      out = (*table)[v];
      return true;
    }
  }
  double x = 0;
  if (!CriteoNumber(s, x)) return false;
  out = SignedLog1p(x);
  return true;
}

// ReadCriteo: a criteo line without carriage returns or newlines, split in place (string
// views, no copies), to `sink`: Label(y), then Number(k, x) for each I column k = 1..13
// given, then Category(k, value) for each C column given (k = 14..39, CriteoNames).
template <typename Sink>
bool ReadCriteo(const std::string& line, Sink& sink, std::string& error) {
  std::array<std::string_view, 1 + kCriteoInts + kCriteoCats> f;
  size_t n = 0, start = 0;
  for (;;) {
    const size_t tab = line.find('\t', start);
    const size_t stop = tab == std::string::npos ? line.size() : tab;
    if (n < f.size()) f[n] = std::string_view(line.data() + start, stop - start);
    ++n;
    if (tab == std::string::npos) break;
    start = tab + 1;
  }
  if (n != f.size()) {
    error = "expected 40 tab-separated fields (label, I1..I13, C1..C26), found " +
            std::to_string(n);
    return false;
  }
  if (f[0] != "0" && f[0] != "1") {
    error = "label \"" + std::string(f[0]) + "\" is not 0 or 1";
    return false;
  }
  sink.Label(f[0] == "1" ? 1.0 : 0.0);
  for (int k = 1; k <= kCriteoInts; ++k) {
    const std::string_view s = f[k];
    if (s.empty()) continue;
    double x = 0;
    if (!CriteoFeature(s, x)) {
      error = "I" + std::to_string(k) + " \"" + std::string(s) + "\" is not a finite number";
      return false;
    }
    sink.Number(k, x);
  }
  for (int k = kCriteoInts + 1; k <= kCriteoInts + kCriteoCats; ++k) {
    if (!f[k].empty()) sink.Category(k, f[k]);
  }
  return true;
}

// MessageSink: ReadCriteo into an Event.
struct MessageSink {
  v1::Event& event;
  google::protobuf::Map<std::string, v1::FeatureValue>& values;
  void Label(double y) { event.set_label(y); }
  void Number(int k, double x) { values[CriteoNames()[k]].set_number(x); }
  void Category(int k, std::string_view s) {
    values[CriteoNames()[k]].set_category(s.data(), s.size());
  }
};

bool ParseCriteo(const std::string& line, v1::Event& event, std::string& error) {
  if (line.find_first_of("\r\n") != std::string::npos) {
    return ParseCriteoSlow(line, event, error);
  }
  MessageSink sink{event, *event.mutable_context()->mutable_values()};
  if (!ReadCriteo(line, sink, error)) return false;
  event.mutable_item()->set_id("criteo");
  return true;
}

// The wire format, for AppendCriteoEvent.
size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>(static_cast<uint8_t>(v) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

void PutDouble(std::string& out, double d) {  // fixed64, little-endian
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  for (int i = 0; i < 8; ++i) out += static_cast<char>(static_cast<uint8_t>(bits >> (8 * i)));
}

// WireSink: ReadCriteo as Features.values entries (map<string, FeatureValue>: entry
// field 1 the key, field 2 the value; FeatureValue.number is field 2, fixed64,
// .category field 1).
struct WireSink {
  std::string& context;
  double label = 0;
  void Label(double y) { label = y; }
  void Entry(int k, size_t value_size) {
    const std::string& key = CriteoNames()[k];
    const size_t entry = 1 + VarintSize(key.size()) + key.size() + 1 +
                         VarintSize(value_size) + value_size;
    context += '\x0a';  // Features.values
    PutVarint(context, entry);
    context += '\x0a';  // key
    PutVarint(context, key.size());
    context += key;
    context += '\x12';  // value
    PutVarint(context, value_size);
  }
  void Number(int k, double x) {
    Entry(k, 9);
    context += '\x11';  // FeatureValue.number
    PutDouble(context, x);
  }
  void Category(int k, std::string_view s) {
    Entry(k, 1 + VarintSize(s.size()) + s.size());
    context += '\x0a';  // FeatureValue.category
    PutVarint(context, s.size());
    context.append(s.data(), s.size());
  }
};

}  // namespace

bool SplitCsv(const std::string& line, std::vector<std::string>& fields, std::string& error) {
  fields.assign(1, std::string());
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"' && fields.back().empty()) {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r' && c != '\n') {
      fields.back() += c;
    }
  }
  if (quoted) {
    error = "a quoted value is not closed";
    return false;
  }
  return true;
}

bool EventParser::Header(const std::string& raw, std::string& error) {
  // A UTF-8 byte-order mark (spreadsheet exports) is not part of the first column's name.
  const std::string line = raw.rfind("\xEF\xBB\xBF", 0) == 0 ? raw.substr(3) : raw;
  std::vector<std::string> names;
  if (!SplitCsv(line, names, error)) {
    error = "csv header: " + error;
    return false;
  }
  roles_.assign(names.size(), Role::kCategory);
  auto find = [&](const std::string& name, const char* flag, Role role) {
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == name) {
        roles_[i] = role;
        return true;
      }
    }
    error = "csv header has no column \"" + name + "\" (named by " + flag + ")";
    return false;
  };
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) {
      error = "csv header: column " + std::to_string(i + 1) + " has no name";
      return false;
    }
    for (size_t j = 0; j < i; ++j) {
      if (names[j] == names[i]) {
        error = "csv header names column \"" + names[i] + "\" twice";
        return false;
      }
    }
  }
  for (const std::string& n : names) {
    if (n == "item_id") {
      error = "csv column \"item_id\" is reserved by the server (name the item column with "
              "--item, and rename any other)";
      return false;
    }
  }
  for (const std::string& n : layout_.numeric) {
    if (n == layout_.label || n == layout_.item) {
      error = "column \"" + n + "\" is named by --numeric and by --label or --item";
      return false;
    }
  }
  if (layout_.item == layout_.label) {
    error = "column \"" + layout_.item + "\" is named by both --label and --item";
    return false;
  }
  if (!find(layout_.label, "--label", Role::kLabel)) return false;
  if (!layout_.item.empty() && !find(layout_.item, "--item", Role::kItem)) return false;
  for (const std::string& n : layout_.numeric) {
    if (!find(n, "--numeric", Role::kNumber)) return false;
  }
  columns_ = std::move(names);
  return true;
}

bool EventParser::Parse(const std::string& line, v1::Event& event, std::string& error) {
  if (format_ == Format::kJsonl) return json_.Parse(line, event, error);
  if (format_ != Format::kCsv) return ParseEventLine(format_, line, event, error);
  event.Clear();
  std::vector<std::string> f;
  if (!SplitCsv(line, f, error)) return false;
  if (f.size() != columns_.size()) {
    error = "expected " + std::to_string(columns_.size()) + " comma-separated values (the "
            "header's columns), found " + std::to_string(f.size());
    return false;
  }
  auto& values = *event.mutable_context()->mutable_values();
  event.mutable_item()->set_id("csv");
  for (size_t i = 0; i < f.size(); ++i) {
    const std::string& s = f[i];
    switch (roles_[i]) {
      case Role::kLabel: {
        double y = 0;
        if (!ParseNumber(s, y) || y < 0 || y > 1) {
          error = "label " + columns_[i] + " \"" + s + "\" is not a number in [0, 1]";
          return false;
        }
        event.set_label(y);
        break;
      }
      case Role::kItem:
        if (s.empty()) {
          error = "item column " + columns_[i] + " is empty";
          return false;
        }
        event.mutable_item()->set_id(s);
        break;
      case Role::kNumber: {
        if (s.empty()) break;
        double x = 0;
        if (!ParseNumber(s, x) || std::abs(x) > 3.4028234663852886e38) {
          error = columns_[i] + " \"" + s + "\" is not a finite float";
          return false;
        }
        values[columns_[i]].set_number(x);
        break;
      }
      case Role::kCategory:
        if (!s.empty()) values[columns_[i]].set_category(s);
        break;
    }
  }
  return true;
}

std::optional<Format> ParseFormat(const std::string& name) {
  if (name == "jsonl") return Format::kJsonl;
  if (name == "criteo") return Format::kCriteo;
  if (name == "csv") return Format::kCsv;
  return std::nullopt;
}

Format DetectFormat(const std::string& first_line) {
  for (char c : first_line) {
    if (c == ' ' || c == '\t') continue;
    return c == '{' ? Format::kJsonl : Format::kCriteo;
  }
  return Format::kJsonl;
}

bool ParseEventLine(Format format, const std::string& line, v1::Event& event,
                    std::string& error) {
  event.Clear();
  if (format == Format::kCriteo) return ParseCriteo(line, event, error);
  if (format == Format::kCsv) {
    error = "csv is read through an EventParser (it needs the header)";
    return false;
  }
  thread_local JsonEventParser parser;
  return parser.Parse(line, event, error);
}

bool AppendCriteoEvent(const std::string& line, std::string_view event_id, std::string& out,
                       std::string& error) {
  if (line.find_first_of("\r\n") != std::string::npos) {  // the reference reader's case
    v1::Event event;
    if (!ParseCriteoSlow(line, event, error)) return false;
    event.set_event_id(event_id.data(), event_id.size());
    const std::string bytes = event.SerializeAsString();
    out += '\x0a';  // ObserveRequest.events
    PutVarint(out, bytes.size());
    out += bytes;
    return true;
  }
  thread_local std::string context;
  context.clear();
  WireSink sink{context};
  if (!ReadCriteo(line, sink, error)) return false;
  constexpr std::string_view kItem("\x12\x08\x0a\x06" "criteo", 10);  // item {id: "criteo"}
  const size_t event = 1 + VarintSize(context.size()) + context.size() + kItem.size() + 9 +
                       (event_id.empty() ? 0 : 1 + VarintSize(event_id.size()) + event_id.size());
  out += '\x0a';  // ObserveRequest.events
  PutVarint(out, event);
  out += '\x0a';  // Event.context (present even when empty, as ParseEventLine sets it)
  PutVarint(out, context.size());
  out += context;
  out += kItem;
  out += '\x19';  // Event.label, fixed64
  PutDouble(out, sink.label);
  if (!event_id.empty()) {
    out += '\x2a';  // Event.event_id
    PutVarint(out, event_id.size());
    out.append(event_id.data(), event_id.size());
  }
  return true;
}

std::string FormatEventLine(Format format, const v1::Event& event) {
  if (format == Format::kJsonl) {
    std::string out;
    google::protobuf::util::MessageToJsonString(event, &out);
    return out;
  }
  std::string out = event.label() >= 0.5 ? "1" : "0";
  const auto& values = event.context().values();
  for (int k = 1; k <= kCriteoInts; ++k) {
    out += '\t';
    auto it = values.find("I" + std::to_string(k));
    if (it != values.end() && it->second.has_number()) {
      out += std::to_string(static_cast<long long>(std::llround(it->second.number())));
    }
  }
  for (int k = 1; k <= kCriteoCats; ++k) {
    out += '\t';
    auto it = values.find("C" + std::to_string(k));
    if (it != values.end()) out += it->second.category();
  }
  return out;
}

}  // namespace streamrec::client
