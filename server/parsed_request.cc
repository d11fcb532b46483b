#include "server/parsed_request.h"

#include <cstring>

#include "absl/container/inlined_vector.h"
#include "google/protobuf/stubs/common.h"  // IsStructurallyValidUTF8: protobuf's own check

namespace streamrec::server {

// WireParser reads the protobuf wire format of the requests into a ParsedRequest's
// arrays. Each function mirrors what protobuf 3.21's generated parser does for that
// message (google/protobuf/parse_context.h); `depth` counts down from protobuf's
// recursion limit as messages and groups nest.
class WireParser {
 public:
  explicit WireParser(ParsedRequest& out) : out_(out) {}

  bool Predict(std::string_view bytes, ParsedPredict& r);
  bool Observe(std::string_view bytes, ParsedObserve& r);

 private:
  static constexpr int kRecursionLimit = 100;  // io::CodedInputStream's default

  // The unread bytes of one message.
  struct In {
    const char* p;
    const char* end;
    explicit In(std::string_view s) : p(s.data()), end(s.data() + s.size()) {}
    size_t left() const { return static_cast<size_t>(end - p); }
  };
  // Spans: the bytes of each occurrence of a singular message field, merged in order.
  using Spans = absl::InlinedVector<std::string_view, 2>;
  enum class Field { kRead, kUnknown, kFail };

  static constexpr uint32_t Tag(uint32_t number, uint32_t wire_type) {
    return number << 3 | wire_type;
  }
  enum : uint32_t { kVarint = 0, kFixed64 = 1, kLength = 2, kStartGroup = 3, kEndGroup = 4,
                    kFixed32 = 5 };

  // Varints as protobuf reads them: at most 10 bytes (5 for a tag, whose excess bits
  // are dropped), the value modulo 2^64 (2^32).
  static bool Varint(In& in, uint64_t& out) {
    uint64_t v = 0;
    for (int i = 0; i < 10; ++i) {
      if (in.p == in.end) return false;
      const uint8_t b = static_cast<uint8_t>(*in.p++);
      v |= uint64_t{b & 0x7fu} << (7 * i);
      if (b < 0x80) {
        out = v;
        return true;
      }
    }
    return false;
  }
  static bool ReadTag(In& in, uint32_t& tag) {
    if (in.p != in.end && static_cast<uint8_t>(*in.p) < 0x80) {
      tag = static_cast<uint8_t>(*in.p++);
      return true;
    }
    uint32_t v = 0;
    for (int i = 0; i < 5; ++i) {
      if (in.p == in.end) return false;
      const uint8_t b = static_cast<uint8_t>(*in.p++);
      v |= uint32_t{b & 0x7fu} << (7 * i);
      if (b < 0x80) {
        tag = v;
        return true;
      }
    }
    return false;
  }
  // A length: at most 5 bytes and below 2 GiB (ReadSize), within the message.
  static bool Length(In& in, std::string_view& bytes) {
    uint32_t v = 0;
    int i = 0;
    for (;; ++i) {
      if (in.p == in.end) return false;
      const uint8_t b = static_cast<uint8_t>(*in.p++);
      if (i == 4) {
        if (b >= 8) return false;
        v |= uint32_t{b} << 28;
        break;
      }
      v |= uint32_t{b & 0x7fu} << (7 * i);
      if (b < 0x80) break;
    }
    if (v > in.left()) return false;
    bytes = std::string_view(in.p, v);
    in.p += v;
    return true;
  }
  static bool Fixed64(In& in, double& out) {
    if (in.left() < 8) return false;
    std::memcpy(&out, in.p, 8);  // little-endian hosts only (as the snapshots)
    in.p += 8;
    return true;
  }
  // Utf8: ASCII is checked a word at a time (overlapping loads cover the tail); anything
  // else goes to protobuf's own validator.
  static bool Utf8(std::string_view s) {
    const char* p = s.data();
    const size_t n = s.size();
    bool ascii;
    if (n >= 8) {
      uint64_t acc = 0, x;
      size_t i = 0;
      for (; i + 8 <= n; i += 8) {
        std::memcpy(&x, p + i, 8);
        acc |= x;
      }
      std::memcpy(&x, p + n - 8, 8);
      ascii = ((acc | x) & 0x8080808080808080ull) == 0;
    } else if (n >= 4) {
      uint32_t a, b;
      std::memcpy(&a, p, 4);
      std::memcpy(&b, p + n - 4, 4);
      ascii = ((a | b) & 0x80808080u) == 0;
    } else {
      unsigned acc = 0;
      for (size_t i = 0; i < n; ++i) acc |= static_cast<uint8_t>(p[i]);
      ascii = acc < 0x80;
    }
    return ascii ||
           google::protobuf::internal::IsStructurallyValidUTF8(p, static_cast<int>(n));
  }
  static bool String(In& in, std::string_view& s) { return Length(in, s) && Utf8(s); }

  // Skip an unknown field (UnknownFieldParse): field number 0 and wire types 6 and 7
  // fail; a group is read to its own end-group tag.
  static bool Skip(uint32_t tag, In& in, int depth) {
    if ((tag >> 3) == 0) return false;
    switch (tag & 7) {
      case kVarint: {
        uint64_t v;
        return Varint(in, v);
      }
      case kFixed64:
        if (in.left() < 8) return false;
        in.p += 8;
        return true;
      case kLength: {
        std::string_view bytes;
        return Length(in, bytes);
      }
      case kStartGroup: {
        if (--depth < 0) return false;
        while (in.p != in.end) {
          uint32_t t;
          if (!ReadTag(in, t)) return false;
          if (t == 0 || (t & 7) == kEndGroup) return t == tag + 1;
          if (!Skip(t, in, depth)) return false;
        }
        return false;  // the message ended inside the group
      }
      case kFixed32:
        if (in.left() < 4) return false;
        in.p += 4;
        return true;
      default:
        return false;
    }
  }

  // Fields runs `on_field(tag, in)` over a message's fields, skipping the unknown ones.
  // A tag 0 or an end-group tag ends a message only inside a group: here it fails.
  template <typename OnField>
  static bool Fields(std::string_view bytes, int depth, OnField&& on_field) {
    In in(bytes);
    while (in.p != in.end) {
      uint32_t tag;
      if (!ReadTag(in, tag) || tag == 0 || (tag & 7) == kEndGroup) return false;
      switch (on_field(tag, in)) {
        case Field::kRead:
          break;
        case Field::kUnknown:
          if (!Skip(tag, in, depth)) return false;
          break;
        case Field::kFail:
          return false;
      }
    }
    return true;
  }
  // Sub reads a length-delimited submessage's bytes, one level deeper.
  static Field Sub(In& in, int depth, Spans& spans) {
    std::string_view bytes;
    if (depth - 1 < 0 || !Length(in, bytes)) return Field::kFail;
    spans.push_back(bytes);
    return Field::kRead;
  }

  // Where a value's categories or floats start: a case change of its oneof truncates.
  struct ValueStart {
    uint32_t strings;
    uint32_t floats;
  };
  size_t entries_size() const { return out_.entries_.size(); }
  // Value reads one occurrence of a FeatureValue into v (merging into what is there).
  bool Value(std::string_view bytes, int depth, ValueStart start, ParsedValue& v);
  bool Categories(std::string_view bytes, int depth);
  bool Vector(std::string_view bytes, int depth);
  bool Entry(std::string_view bytes, int depth);
  // FeaturesPart appends the entries of one occurrence of a Features message.
  bool FeaturesPart(std::string_view bytes, int depth);
  bool Features(const Spans& spans, int depth, ParsedFeatures& f);
  bool ItemPart(std::string_view bytes, int depth, ParsedItem& item);
  bool Item(const Spans& spans, int depth, ParsedItem& item);
  bool Event(std::string_view bytes, int depth, ParsedEvent& e);

  ParsedRequest& out_;
};

bool WireParser::Categories(std::string_view bytes, int depth) {
  return Fields(bytes, depth, [&](uint32_t tag, In& in) {
    if (tag != Tag(1, kLength)) return Field::kUnknown;
    std::string_view s;
    if (!String(in, s)) return Field::kFail;
    out_.strings_.push_back(s);
    return Field::kRead;
  });
}

bool WireParser::Vector(std::string_view bytes, int depth) {
  std::vector<float>& floats = out_.floats_;
  return Fields(bytes, depth, [&](uint32_t tag, In& in) {
    if (tag == Tag(1, kFixed32)) {  // unpacked
      if (in.left() < 4) return Field::kFail;
      float x;
      std::memcpy(&x, in.p, 4);
      in.p += 4;
      floats.push_back(x);
      return Field::kRead;
    }
    if (tag != Tag(1, kLength)) return Field::kUnknown;
    std::string_view packed;
    if (!Length(in, packed) || packed.size() % 4 != 0) return Field::kFail;
    const size_t n = packed.size() / 4, at = floats.size();
    if (n == 0) return Field::kRead;  // an empty packed run (memcpy of nothing into null)
    floats.resize(at + n);
    std::memcpy(floats.data() + at, packed.data(), packed.size());
    return Field::kRead;
  });
}

bool WireParser::Value(std::string_view bytes, int depth, ValueStart start, ParsedValue& v) {
  using Kind = ParsedValue::Kind;
  // Setting another case of the oneof clears the one set (a message case starts empty);
  // the same message case again merges into it.
  auto set = [&](Kind kind) {
    if (v.kind == kind) return;
    out_.strings_.resize(start.strings);
    out_.floats_.resize(start.floats);
    v = ParsedValue{};
    v.kind = kind;
    v.begin = kind == Kind::kCategories ? start.strings : start.floats;
  };
  return Fields(bytes, depth, [&](uint32_t tag, In& in) {
    std::string_view sub;
    switch (tag) {
      case Tag(1, kLength):
        if (!String(in, sub)) return Field::kFail;
        set(Kind::kCategory);
        v.category = sub;
        return Field::kRead;
      case Tag(2, kFixed64): {
        double x;
        if (!Fixed64(in, x)) return Field::kFail;
        set(Kind::kNumber);
        v.number = x;
        return Field::kRead;
      }
      case Tag(3, kLength):
        if (depth - 1 < 0 || !Length(in, sub)) return Field::kFail;
        set(Kind::kCategories);
        if (!Categories(sub, depth - 1)) return Field::kFail;
        v.count = static_cast<uint32_t>(out_.strings_.size()) - v.begin;
        return Field::kRead;
      case Tag(4, kLength):
        if (depth - 1 < 0 || !Length(in, sub)) return Field::kFail;
        set(Kind::kVector);
        if (!Vector(sub, depth - 1)) return Field::kFail;
        v.count = static_cast<uint32_t>(out_.floats_.size()) - v.begin;
        return Field::kRead;
      default:
        return Field::kUnknown;
    }
  });
}

// An entry's fields are read in place: a value given twice merges into the first, and
// nothing else is appended to the arrays while an entry is read.
bool WireParser::Entry(std::string_view bytes, int depth) {
  ParsedEntry& entry = out_.entries_.emplace_back();
  const ValueStart start{static_cast<uint32_t>(out_.strings_.size()),
                         static_cast<uint32_t>(out_.floats_.size())};
  return Fields(bytes, depth, [&](uint32_t tag, In& in) {
    std::string_view value;
    if (tag == Tag(1, kLength)) return String(in, entry.key) ? Field::kRead : Field::kFail;
    if (tag != Tag(2, kLength)) return Field::kUnknown;
    if (depth - 1 < 0 || !Length(in, value)) return Field::kFail;
    return Value(value, depth - 1, start, entry.value) ? Field::kRead : Field::kFail;
  });
}

bool WireParser::FeaturesPart(std::string_view bytes, int depth) {
  return Fields(bytes, depth, [&](uint32_t tag, In& in) {
    if (tag != Tag(1, kLength)) return Field::kUnknown;
    std::string_view entry;
    if (depth - 1 < 0 || !Length(in, entry)) return Field::kFail;
    return Entry(entry, depth - 1) ? Field::kRead : Field::kFail;
  });
}

bool WireParser::Features(const Spans& spans, int depth, ParsedFeatures& f) {
  f.begin = static_cast<uint32_t>(out_.entries_.size());
  for (std::string_view bytes : spans) {
    if (!FeaturesPart(bytes, depth)) return false;
  }
  f.count = static_cast<uint32_t>(out_.entries_.size()) - f.begin;
  return true;
}

// An item's features are read in place (only its own entries are appended meanwhile).
bool WireParser::ItemPart(std::string_view bytes, int depth, ParsedItem& item) {
  return Fields(bytes, depth, [&](uint32_t tag, In& in) {
    std::string_view features;
    if (tag == Tag(1, kLength)) return String(in, item.id) ? Field::kRead : Field::kFail;
    if (tag != Tag(2, kLength)) return Field::kUnknown;
    if (depth - 1 < 0 || !Length(in, features)) return Field::kFail;
    return FeaturesPart(features, depth - 1) ? Field::kRead : Field::kFail;
  });
}

bool WireParser::Item(const Spans& spans, int depth, ParsedItem& item) {
  item.features.begin = static_cast<uint32_t>(out_.entries_.size());
  for (std::string_view bytes : spans) {
    if (!ItemPart(bytes, depth, item)) return false;
  }
  item.features.count = static_cast<uint32_t>(out_.entries_.size()) - item.features.begin;
  return true;
}

bool WireParser::Event(std::string_view bytes, int depth, ParsedEvent& e) {
  Spans context, item;
  const bool ok = Fields(bytes, depth, [&](uint32_t tag, In& in) {
    switch (tag) {
      case Tag(1, kLength):
        return Sub(in, depth, context);
      case Tag(2, kLength):
        e.has_item = true;
        return Sub(in, depth, item);
      case Tag(3, kFixed64):
        e.has_label = true;
        return Fixed64(in, e.label) ? Field::kRead : Field::kFail;
      case Tag(4, kFixed64):
        e.has_weight = true;
        return Fixed64(in, e.weight) ? Field::kRead : Field::kFail;
      case Tag(5, kLength):
        return String(in, e.event_id) ? Field::kRead : Field::kFail;
      case Tag(6, kLength):
        return String(in, e.prediction_id) ? Field::kRead : Field::kFail;
      case Tag(7, kVarint): {
        uint64_t v;
        if (!Varint(in, v)) return Field::kFail;
        e.time_unix_ms = static_cast<int64_t>(v);
        return Field::kRead;
      }
      default:
        return Field::kUnknown;
    }
  });
  return ok && Features(context, depth - 1, e.context) && Item(item, depth - 1, e.item);
}

bool WireParser::Predict(std::string_view bytes, ParsedPredict& r) {
  const int depth = kRecursionLimit;
  Spans context;
  const bool ok = Fields(bytes, depth, [&](uint32_t tag, In& in) {
    switch (tag) {
      case Tag(1, kLength):
        return Sub(in, depth, context);
      case Tag(2, kLength): {
        std::string_view bytes;
        if (depth - 1 < 0 || !Length(in, bytes)) return Field::kFail;
        ParsedItem& item = r.candidates.emplace_back();
        item.features.begin = static_cast<uint32_t>(entries_size());
        if (!ItemPart(bytes, depth - 1, item)) return Field::kFail;
        item.features.count = static_cast<uint32_t>(entries_size()) - item.features.begin;
        return Field::kRead;
      }
      case Tag(3, kVarint): {
        uint64_t v;
        if (!Varint(in, v)) return Field::kFail;
        r.top_k = static_cast<uint32_t>(v);
        return Field::kRead;
      }
      case Tag(4, kVarint): {
        uint64_t v;
        if (!Varint(in, v)) return Field::kFail;
        r.has_log_impression = true;
        r.log_impression = v != 0;
        return Field::kRead;
      }
      default:
        return Field::kUnknown;
    }
  });
  return ok && Features(context, depth - 1, r.context);
}

bool WireParser::Observe(std::string_view bytes, ParsedObserve& r) {
  const int depth = kRecursionLimit;
  return Fields(bytes, depth, [&](uint32_t tag, In& in) {
    if (tag != Tag(1, kLength)) return Field::kUnknown;
    std::string_view bytes;
    if (depth - 1 < 0 || !Length(in, bytes)) return Field::kFail;
    return Event(bytes, depth - 1, r.events.emplace_back()) ? Field::kRead : Field::kFail;
  });
}

namespace {
template <typename V>
void ShrinkIfLarge(V& v, size_t keep) {
  if (v.capacity() * sizeof(typename V::value_type) > keep) V().swap(v);
}
}  // namespace

void ParsedRequest::ReleaseArrays(size_t keep) {
  ShrinkIfLarge(entries_, keep);
  ShrinkIfLarge(strings_, keep);
  ShrinkIfLarge(floats_, keep);
  ShrinkIfLarge(copy_, keep);
}

void ParsedPredict::ReleaseLarge(size_t keep) {
  ReleaseArrays(keep);
  ShrinkIfLarge(candidates, keep);
}

void ParsedObserve::ReleaseLarge(size_t keep) {
  ReleaseArrays(keep);
  ShrinkIfLarge(events, keep);
}

bool ParsedPredict::Parse(std::string_view bytes) {
  ClearArrays();
  context = {};
  candidates.clear();
  top_k = 0;
  has_log_impression = false;
  log_impression = false;
  return WireParser(*this).Predict(bytes, *this);
}

bool ParsedPredict::ParseMessage(const google::protobuf::Message& request) {
  copy_ = request.SerializeAsString();
  return Parse(copy_);
}

bool ParsedObserve::Parse(std::string_view bytes) {
  ClearArrays();
  events.clear();
  return WireParser(*this).Observe(bytes, *this);
}

bool ParsedObserve::ParseMessage(const google::protobuf::Message& request) {
  copy_ = request.SerializeAsString();
  return Parse(copy_);
}

}  // namespace streamrec::server
