#include "client/event_json.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <system_error>

#include "google/protobuf/util/json_util.h"
#include "simdjson.h"

namespace streamrec::client {
namespace {

namespace od = simdjson::ondemand;

// Every helper returns false for "not sure": the line then goes to protobuf's parser.

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' ||
                        s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Number: a JSON number token as protobuf's parser classifies it: integral when it has
// no '.', 'e' or 'E' (read as a 64-bit integer), else a double.
struct Number {
  bool integral = false;
  int64_t i = 0;
  double d = 0;
};

// ReadNumber: `v` is a number in RFC 8259's grammar that fits an int64 (integral) or is
// a finite double without underflow (else).
bool ReadNumber(od::value& v, Number& n) {
  od::json_type type;
  if (v.type().get(type) || type != od::json_type::number) return false;
  const std::string_view tok = TrimRight(v.raw_json_token());
  size_t p = 0;
  const size_t len = tok.size();
  if (p < len && tok[p] == '-') ++p;
  if (p >= len) return false;
  if (tok[p] == '0') {
    ++p;
  } else if (tok[p] >= '1' && tok[p] <= '9') {
    while (p < len && IsDigit(tok[p])) ++p;
  } else {
    return false;
  }
  n.integral = true;
  if (p < len && tok[p] == '.') {
    n.integral = false;
    const size_t start = ++p;
    while (p < len && IsDigit(tok[p])) ++p;
    if (p == start) return false;
  }
  if (p < len && (tok[p] == 'e' || tok[p] == 'E')) {
    n.integral = false;
    ++p;
    if (p < len && (tok[p] == '+' || tok[p] == '-')) ++p;
    const size_t start = p;
    while (p < len && IsDigit(tok[p])) ++p;
    if (p == start) return false;
  }
  if (p != len) return false;
  const char* const end = tok.data() + len;
  if (n.integral) {
    const auto r = std::from_chars(tok.data(), end, n.i);
    return r.ec == std::errc() && r.ptr == end;
  }
  const auto r = std::from_chars(tok.data(), end, n.d);
  return r.ec == std::errc() && r.ptr == end && std::isfinite(n.d);
}

// ReadDouble: a double field. Integers only where a double holds them exactly (protobuf
// rejects an integer the conversion would change); "NaN", "Infinity", "-Infinity".
bool ReadDouble(od::value& v, double& out) {
  od::json_type type;
  if (v.type().get(type)) return false;
  if (type == od::json_type::number) {
    Number n;
    if (!ReadNumber(v, n)) return false;
    if (!n.integral) {
      out = n.d;
      return true;
    }
    constexpr int64_t kExact = int64_t{1} << 53;
    if (n.i > kExact || n.i < -kExact) return false;
    out = static_cast<double>(n.i);
    return true;
  }
  if (type != od::json_type::string) return false;
  std::string_view s;
  if (v.get_string().get(s)) return false;
  if (s == "NaN") {
    out = std::numeric_limits<double>::quiet_NaN();
  } else if (s == "Infinity") {
    out = std::numeric_limits<double>::infinity();
  } else if (s == "-Infinity") {
    out = -std::numeric_limits<double>::infinity();
  } else {
    return false;
  }
  return true;
}

// ReadFloat: a float field (Vector.values), from a JSON number only: integers a float
// holds exactly, reals within float range.
bool ReadFloat(od::value& v, float& out) {
  Number n;
  if (!ReadNumber(v, n)) return false;
  if (n.integral) {
    constexpr int64_t kExact = int64_t{1} << 24;
    if (n.i > kExact || n.i < -kExact) return false;
    out = static_cast<float>(n.i);
    return true;
  }
  if (std::fabs(n.d) > std::numeric_limits<float>::max()) return false;
  out = static_cast<float>(n.d);
  return true;
}

// ReadInt64: an int64 field, from an integral JSON number or a string of canonical
// decimal digits ("123", "-5", "0").
bool ReadInt64(od::value& v, int64_t& out) {
  od::json_type type;
  if (v.type().get(type)) return false;
  if (type == od::json_type::number) {
    Number n;
    if (!ReadNumber(v, n) || !n.integral) return false;
    out = n.i;
    return true;
  }
  if (type != od::json_type::string) return false;
  std::string_view s;
  if (v.get_string().get(s) || s.empty()) return false;
  const size_t digits = s[0] == '-' ? 1 : 0;
  if (digits == s.size() || !IsDigit(s[digits])) return false;
  if (s[digits] == '0' && s.size() != 1) return false;  // "0" only; no "-0", "007"
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// ReadString: a JSON string's value, without a copy when it has no escapes; a decoded
// one must be valid UTF-8 (a lone surrogate escape is not).
bool ReadString(od::value& v, std::string_view& out) {
  const std::string_view tok = TrimRight(v.raw_json_token());
  if (tok.size() < 2 || tok.front() != '"' || tok.back() != '"') return false;
  const std::string_view inner = tok.substr(1, tok.size() - 2);
  if (std::memchr(inner.data(), '\\', inner.size()) == nullptr) {
    out = inner;  // UTF-8 checked by simdjson for the whole line
    return true;
  }
  if (v.get_string().get(out)) return false;
  return simdjson::validate_utf8(out.data(), out.size());
}

// ReadKey: a field's key, decoded.
bool ReadKey(od::field& f, std::string_view& key) {
  const char* const start = f.key().raw();
  const char* p = start;
  while (*p != '"' && *p != '\\') ++p;  // the closing quote is in the buffer
  if (*p == '"') {
    key = std::string_view(start, static_cast<size_t>(p - start));
    return true;
  }
  if (f.unescaped_key().get(key)) return false;
  return simdjson::validate_utf8(key.data(), key.size());
}

// ForEachField calls fn(key, value) for each field of the object `v`; false when `v` is
// not an object, on a JSON error, or when fn returns false.
template <typename Fn>
bool ForEachField(od::value& v, Fn&& fn) {
  od::object obj;
  if (v.get_object().get(obj)) return false;
  for (auto result : obj) {
    od::field f;
    if (std::move(result).get(f)) return false;
    std::string_view key;
    if (!ReadKey(f, key) || !fn(key, f.value())) return false;
  }
  return true;
}

// ForEachElement calls fn(value) for each element of the array in the object `v`'s only
// field "values" (CategoryList, Vector).
template <typename Fn>
bool ForEachValue(od::value& v, Fn&& fn) {
  bool seen = false;
  return ForEachField(v, [&](std::string_view key, od::value& values) {
    if (key != "values" || seen) return false;
    seen = true;
    od::array array;
    if (values.get_array().get(array)) return false;
    for (auto result : array) {
      od::value e;
      if (std::move(result).get(e) || !fn(e)) return false;
    }
    return true;
  });
}

bool ParseFeatureValue(od::value& v, v1::FeatureValue& out) {
  bool set = false;  // a second key is a second kind, a repeated one or an unknown one
  return ForEachField(v, [&](std::string_view key, od::value& value) {
    if (set) return false;
    set = true;
    if (key == "category") {
      std::string_view s;
      if (!ReadString(value, s)) return false;
      out.set_category(s.data(), s.size());
      return true;
    }
    if (key == "number") {
      double d = 0;
      if (!ReadDouble(value, d)) return false;
      out.set_number(d);
      return true;
    }
    if (key == "categories") {
      auto& values = *out.mutable_categories()->mutable_values();
      return ForEachValue(value, [&](od::value& e) {
        std::string_view s;
        if (!ReadString(e, s)) return false;
        values.Add()->assign(s.data(), s.size());
        return true;
      });
    }
    if (key == "vector") {
      auto& values = *out.mutable_vector()->mutable_values();
      return ForEachValue(value, [&](od::value& e) {
        float x = 0;
        if (!ReadFloat(e, x)) return false;
        values.Add(x);
        return true;
      });
    }
    return false;
  });
}

bool ParseFeatures(od::value& v, v1::Features& out) {
  bool seen = false;
  return ForEachField(v, [&](std::string_view key, od::value& values) {
    if (key != "values" || seen) return false;
    seen = true;
    auto& map = *out.mutable_values();
    return ForEachField(values, [&](std::string_view name, od::value& value) {
      auto [it, inserted] = map.try_emplace(std::string(name));
      return inserted && ParseFeatureValue(value, it->second);
    });
  });
}

bool ParseItem(od::value& v, v1::Item& out) {
  bool id = false, features = false;
  return ForEachField(v, [&](std::string_view key, od::value& value) {
    if (key == "id" && !id) {
      id = true;
      std::string_view s;
      if (!ReadString(value, s)) return false;
      out.set_id(s.data(), s.size());
      return true;
    }
    if (key == "features" && !features) {
      features = true;
      return ParseFeatures(value, *out.mutable_features());
    }
    return false;
  });
}

bool ParseEvent(od::value& v, v1::Event& out) {
  enum : uint32_t {
    kContext = 1, kItem = 2, kLabel = 4, kWeight = 8, kEventId = 16, kPredictionId = 32,
    kTime = 64
  };
  uint32_t seen = 0;
  auto first = [&](uint32_t bit) {
    if (seen & bit) return false;
    seen |= bit;
    return true;
  };
  return ForEachField(v, [&](std::string_view key, od::value& value) {
    std::string_view s;
    double d = 0;
    switch (key.size() > 0 ? key[0] : 0) {
      case 'c':
        if (key == "context" && first(kContext)) {
          return ParseFeatures(value, *out.mutable_context());
        }
        break;
      case 'i':
        if (key == "item" && first(kItem)) return ParseItem(value, *out.mutable_item());
        break;
      case 'l':
        if (key == "label" && first(kLabel) && ReadDouble(value, d)) {
          out.set_label(d);
          return true;
        }
        break;
      case 'w':
        if (key == "weight" && first(kWeight) && ReadDouble(value, d)) {
          out.set_weight(d);
          return true;
        }
        break;
      case 'e':
        if ((key == "eventId" || key == "event_id") && first(kEventId) &&
            ReadString(value, s)) {
          out.set_event_id(s.data(), s.size());
          return true;
        }
        break;
      case 'p':
        if ((key == "predictionId" || key == "prediction_id") && first(kPredictionId) &&
            ReadString(value, s)) {
          out.set_prediction_id(s.data(), s.size());
          return true;
        }
        break;
      case 't': {
        int64_t t = 0;
        if ((key == "timeUnixMs" || key == "time_unix_ms") && first(kTime) &&
            ReadInt64(value, t)) {
          out.set_time_unix_ms(t);
          return true;
        }
        break;
      }
    }
    return false;
  });
}

}  // namespace

struct JsonEventParser::Impl {
  od::parser parser;
  std::string buffer;  // the line, then simdjson's padding

  // Fast: the line through simdjson; false when it must go to protobuf's parser.
  bool Fast(std::string_view line, v1::Event& event) {
    size_t start = 0;
    while (start < line.size() && (line[start] == ' ' || line[start] == '\t' ||
                                   line[start] == '\r' || line[start] == '\n')) {
      ++start;
    }
    if (start == line.size() || line[start] != '{') return false;  // e.g. a byte-order mark
    const size_t need = line.size() + simdjson::SIMDJSON_PADDING;
    if (buffer.size() < need) buffer.resize(need);
    std::memcpy(buffer.data(), line.data(), line.size());
    std::memset(buffer.data() + line.size(), ' ', simdjson::SIMDJSON_PADDING);
    od::document doc;
    if (parser.iterate(simdjson::padded_string_view(buffer.data(), line.size(), buffer.size()))
            .get(doc)) {
      return false;
    }
    od::value root;
    if (doc.get_value().get(root)) return false;
    if (!ParseEvent(root, event)) return false;
    // Nothing after the object: the document has no location left.
    return doc.current_location().error() == simdjson::OUT_OF_BOUNDS;
  }
};

JsonEventParser::JsonEventParser() : impl_(std::make_unique<Impl>()) {}
JsonEventParser::~JsonEventParser() = default;

bool JsonEventParser::Parse(std::string_view line, v1::Event& event, std::string& error) {
  event.Clear();
  if (impl_->Fast(line, event)) {
    ++fast_lines_;
    return true;
  }
  ++fallback_lines_;
  return ProtobufJsonEvent(line, event, error);
}

bool ProtobufJsonEvent(std::string_view line, v1::Event& event, std::string& error) {
  event.Clear();
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(line.data(), line.size()), &event);
  if (!status.ok()) {
    error = "not a streamrec.v1.Event in JSON: " + std::string(status.message());
    return false;
  }
  return true;
}

}  // namespace streamrec::client
