// The zero-copy request parser (server/parsed_request.h) against protobuf's own parser
// of the same bytes (the wire-compatible views of proto/streamrec/internal/
// request_views.proto): both must accept the same bytes and read the same content, on
// hand-made edge cases of the wire format and on random messages, valid and mutated.
#include "server/parsed_request.h"

#include <cstring>
#include <random>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/stubs/logging.h"
#include "gtest/gtest.h"
#include "streamrec/internal/request_views.pb.h"
#include "streamrec/v1/streamrec.pb.h"

namespace streamrec::server {
namespace {

// protobuf logs every string that is not UTF-8; the cases here send many.
class QuietProtobuf : public ::testing::Environment {
 public:
  void SetUp() override {
    google::protobuf::SetLogHandler([](google::protobuf::LogLevel, const char*, int,
                                       const std::string&) {});
  }
};
const auto* const kQuiet = ::testing::AddGlobalTestEnvironment(new QuietProtobuf);

// ---- canonical dumps of what each parser read ----

std::string Bits(double x) {
  uint64_t b;
  std::memcpy(&b, &x, 8);
  return absl::StrCat(b);
}
std::string Bits(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  return absl::StrCat(b);
}
std::string Str(std::string_view s) { return absl::StrCat("'", absl::CHexEscape(absl::string_view(s.data(), s.size())), "'"); }

std::string Dump(const internal::FeaturesView& f) {
  std::string out = "{";
  for (const internal::FeatureEntry& e : f.values()) {
    absl::StrAppend(&out, Str(e.key()), ":");
    const v1::FeatureValue& v = e.value();
    switch (v.kind_case()) {
      case v1::FeatureValue::kCategory:
        absl::StrAppend(&out, "c", Str(v.category()));
        break;
      case v1::FeatureValue::kNumber:
        absl::StrAppend(&out, "n", Bits(v.number()));
        break;
      case v1::FeatureValue::kCategories:
        absl::StrAppend(&out, "C[");
        for (const std::string& c : v.categories().values()) absl::StrAppend(&out, Str(c), ",");
        absl::StrAppend(&out, "]");
        break;
      case v1::FeatureValue::kVector:
        absl::StrAppend(&out, "V[");
        for (float x : v.vector().values()) absl::StrAppend(&out, Bits(x), ",");
        absl::StrAppend(&out, "]");
        break;
      case v1::FeatureValue::KIND_NOT_SET:
        absl::StrAppend(&out, "-");
        break;
    }
    absl::StrAppend(&out, ";");
  }
  return out + "}";
}

std::string Dump(const ParsedRequest& r, ParsedFeatures f) {
  std::string out = "{";
  for (const ParsedEntry& e : r.entries(f)) {
    absl::StrAppend(&out, Str(e.key), ":");
    const ParsedValue& v = e.value;
    switch (v.kind) {
      case ParsedValue::Kind::kCategory:
        absl::StrAppend(&out, "c", Str(v.category));
        break;
      case ParsedValue::Kind::kNumber:
        absl::StrAppend(&out, "n", Bits(v.number));
        break;
      case ParsedValue::Kind::kCategories:
        absl::StrAppend(&out, "C[");
        for (std::string_view c : r.categories(v)) absl::StrAppend(&out, Str(c), ",");
        absl::StrAppend(&out, "]");
        break;
      case ParsedValue::Kind::kVector:
        absl::StrAppend(&out, "V[");
        for (float x : r.vector(v)) absl::StrAppend(&out, Bits(x), ",");
        absl::StrAppend(&out, "]");
        break;
      case ParsedValue::Kind::kNotSet:
        absl::StrAppend(&out, "-");
        break;
    }
    absl::StrAppend(&out, ";");
  }
  return out + "}";
}

std::string Dump(const internal::PredictRequestView& r) {
  std::string out = absl::StrCat("ctx", Dump(r.context()), " k", r.top_k(), " log",
                                 r.has_log_impression() ? (r.log_impression() ? "1" : "0") : "-",
                                 " [");
  for (const internal::ItemView& i : r.candidates()) {
    absl::StrAppend(&out, Str(i.id()), Dump(i.features()), ",");
  }
  return out + "]";
}
std::string Dump(const ParsedPredict& r) {
  std::string out = absl::StrCat("ctx", Dump(r, r.context), " k", r.top_k, " log",
                                 r.has_log_impression ? (r.log_impression ? "1" : "0") : "-",
                                 " [");
  for (const ParsedItem& i : r.candidates) {
    absl::StrAppend(&out, Str(i.id), Dump(r, i.features), ",");
  }
  return out + "]";
}

std::string Dump(const internal::ObserveRequestView& r) {
  std::string out = "[";
  for (const internal::EventView& e : r.events()) {
    absl::StrAppend(&out, "ctx", Dump(e.context()), " item", e.has_item(), Str(e.item().id()),
                    Dump(e.item().features()), " l", e.has_label(), ":", Bits(e.label()), " w",
                    e.has_weight(), ":", Bits(e.weight()), " id", Str(e.event_id()), " p",
                    Str(e.prediction_id()), " t", e.time_unix_ms(), ",");
  }
  return out + "]";
}
std::string Dump(const ParsedObserve& r) {
  std::string out = "[";
  for (const ParsedEvent& e : r.events) {
    absl::StrAppend(&out, "ctx", Dump(r, e.context), " item", e.has_item, Str(e.item.id),
                    Dump(r, e.item.features), " l", e.has_label, ":",
                    Bits(e.has_label ? e.label : 0.0), " w", e.has_weight, ":",
                    Bits(e.has_weight ? e.weight : 0.0), " id", Str(e.event_id), " p",
                    Str(e.prediction_id), " t", e.time_unix_ms, ",");
  }
  return out + "]";
}

// Same: protobuf (View) and the parser agree on whether `bytes` parse, and on what they
// read. The parser object is reused, as the handlers do.
template <typename View, typename Parsed>
::testing::AssertionResult Same(const std::string& bytes, Parsed& ours) {
  View view;
  const bool want = view.ParseFromString(bytes);
  const bool got = ours.Parse(bytes);
  if (want != got) {
    return ::testing::AssertionFailure()
           << "protobuf " << (want ? "accepts" : "refuses") << " but the parser "
           << (got ? "accepts" : "refuses") << ": " << absl::CHexEscape(bytes);
  }
  if (want && Dump(view) != Dump(ours)) {
    return ::testing::AssertionFailure() << "read differently: " << absl::CHexEscape(bytes)
                                         << "\nprotobuf: " << Dump(view)
                                         << "\nparser:   " << Dump(ours);
  }
  return ::testing::AssertionSuccess() << (want ? "valid" : "invalid");
}
::testing::AssertionResult SamePredict(const std::string& bytes, ParsedPredict& ours) {
  return Same<internal::PredictRequestView>(bytes, ours);
}
::testing::AssertionResult SameObserve(const std::string& bytes, ParsedObserve& ours) {
  return Same<internal::ObserveRequestView>(bytes, ours);
}

// ---- writing the wire format by hand ----

void Varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void Tag(std::string& out, uint32_t field, uint32_t wire_type) {
  Varint(out, uint64_t{field} << 3 | wire_type);
}
std::string Len(uint32_t field, const std::string& body) {
  std::string out;
  Tag(out, field, 2);
  Varint(out, body.size());
  return out + body;
}
std::string Fixed64(uint32_t field, double x) {
  std::string out;
  Tag(out, field, 1);
  out.append(reinterpret_cast<const char*>(&x), 8);
  return out;
}
std::string VarintField(uint32_t field, uint64_t v) {
  std::string out;
  Tag(out, field, 0);
  Varint(out, v);
  return out;
}
std::string Group(uint32_t field, const std::string& body) {
  std::string out;
  Tag(out, field, 3);
  out += body;
  Tag(out, field, 4);
  return out;
}
std::string NestedGroups(int n) {
  std::string g;
  for (int i = 0; i < n; ++i) g = Group(9, g);
  return g;
}

// A valid request to build cases from: context {a: "x"}, one candidate "m1" {b: 0.5}.
std::string Entry(const std::string& key, const std::string& value) {
  return Len(1, key) + Len(2, value);
}
std::string Category(const std::string& c) { return Len(1, c); }
std::string Number(double x) { return Fixed64(2, x); }

TEST(ParsedRequestTest, HandMadeEdgeCasesReadAsProtobufDoes) {
  const std::string ctx = Len(1, Entry("a", Category("x")));
  const std::string item = Len(1, "m1") + Len(2, Len(1, Entry("b", Number(0.5))));
  const std::string base = Len(1, ctx) + Len(2, item);
  float f1 = 1.5f, f2 = -2.0f;
  std::string packed(reinterpret_cast<const char*>(&f1), 4);
  packed.append(reinterpret_cast<const char*>(&f2), 4);
  std::string unpacked;
  Tag(unpacked, 1, 5);
  unpacked.append(reinterpret_cast<const char*>(&f1), 4);
  const struct {
    const char* name;
    std::string bytes;
    bool valid;
  } cases[] = {
      {"empty", "", true},
      {"base", base, true},
      {"context twice merges", base + Len(1, Len(1, Entry("c", Number(2)))), true},
      {"candidate with features twice", Len(2, item + Len(2, Len(1, Entry("d", Number(1))))), true},
      {"candidate id twice: last", Len(2, item + Len(1, "m2")), true},
      {"top_k", base + VarintField(3, 7), true},
      {"top_k 10-byte varint", base + "\x18\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", true},
      {"top_k 11-byte varint", base + "\x18\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", false},
      {"log_impression true", base + VarintField(4, 1), true},
      {"log_impression false", base + VarintField(4, 0), true},
      {"log_impression 2 is true", base + VarintField(4, 2), true},
      {"log_impression twice: last", base + VarintField(4, 1) + VarintField(4, 0), true},
      {"log_impression 64-bit varint", base + "\x20\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", true},
      {"log_impression as length: unknown", base + Len(4, "x"), true},
      {"over-long tag encoding", std::string("\x8a\x00\x00", 3), true},
      {"5-byte tag", std::string("\x8a\x80\x80\x80\x00\x00", 6), true},
      {"5-byte tag with high bits", std::string("\x8a\x80\x80\x80\x70\x00", 6), true},
      {"6-byte tag", std::string("\x8a\x80\x80\x80\x80\x00\x00", 7), false},
      {"tag 0", base + std::string("\x00", 1), false},
      {"field number 0", base + std::string("\x02\x00", 2), false},
      {"end group at top", base + "\x4c", false},
      {"wire type 6", base + "\x4e", false},
      {"wire type 7", base + "\x4f", false},
      {"unknown varint", base + VarintField(15, uint64_t{1} << 40), true},
      {"unknown fixed64", base + Fixed64(16, 1.0), true},
      {"unknown fixed32", base + "\x7d\x01\x02\x03\x04", true},
      {"unknown fixed32 short", base + "\x7d\x01\x02\x03", false},
      {"unknown length", base + Len(99, "zz\xff"), true},
      {"unknown group", base + Group(9, VarintField(1, 3) + Len(2, "x")), true},
      {"group without end", base + "\x4b\x08\x01", false},
      {"group wrong end", base + "\x4b\x08\x01\x54", false},
      {"tag 0 in group", base + std::string("\x4b\x00\x4c", 3), false},
      {"groups 100 deep at top", base + NestedGroups(100), true},
      {"groups 101 deep at top", base + NestedGroups(101), false},
      {"groups 98 deep in the context", Len(1, ctx + NestedGroups(98)) + Len(2, item), true},
      {"groups 99 deep in the context", Len(1, ctx + NestedGroups(99)) + Len(2, item), true},
      {"groups 100 deep in the context", Len(1, ctx + NestedGroups(100)) + Len(2, item), false},
      {"groups 97 deep in a value",
       Len(1, Len(1, Entry("a", Category("x") + NestedGroups(97)))), true},
      {"groups 98 deep in a value",
       Len(1, Len(1, Entry("a", Category("x") + NestedGroups(98)))), false},
      {"context with wrong wire type", Fixed64(1, 1) + Len(2, item), true},
      {"candidate with wrong wire type", base + VarintField(2, 5), true},
      {"length past the end", base + "\x0a\x05\x0a\x01", false},
      {"length 5 bytes, 5th byte 8", base + "\x0a\x80\x80\x80\x80\x08", false},
      {"length 5 bytes", base + std::string("\x0a\x80\x80\x80\x80\x00", 6), true},
      {"truncated tag", base + "\x8a", false},
      {"key not UTF-8", Len(1, Len(1, Entry("\xff", Category("x")))), false},
      {"overwritten key not UTF-8",
       Len(1, Len(1, Len(1, "\xc0\x80") + Len(1, "a") + Len(2, Category("x")))), false},
      {"surrogate in a category", Len(1, Len(1, Entry("a", Category("\xed\xa0\x80")))), false},
      {"4-byte UTF-8 category", Len(1, Len(1, Entry("a", Category("\xf0\x9f\x98\x80")))), true},
      {"above U+10FFFF", Len(1, Len(1, Entry("a", Category("\xf4\x90\x80\x80")))), false},
      {"long ASCII then bad byte",
       Len(1, Len(1, Entry("abcdefghijklmnopq\xfe", Category("x")))), false},
      {"oneof: category then number",
       Len(1, Len(1, Entry("a", Category("x") + Number(3)))), true},
      {"oneof: categories, number, categories",
       Len(1, Len(1, Entry("a", Len(3, Len(1, "p")) + Number(3) + Len(3, Len(1, "q"))))), true},
      {"oneof: categories merge", Len(1, Len(1, Entry("a", Len(3, Len(1, "p")) +
                                                               Len(3, Len(1, "q"))))),
       true},
      {"oneof: overwritten category not UTF-8",
       Len(1, Len(1, Entry("a", Category("\xff") + Number(3)))), false},
      {"value twice in an entry merges",
       Len(1, Len(1, Len(1, "a") + Len(2, Len(3, Len(1, "p"))) + Len(2, Len(3, Len(1, "q"))))),
       true},
      {"entry without key", Len(1, Len(1, Len(2, Category("x")))), true},
      {"entry without value", Len(1, Len(1, Len(1, "a"))), true},
      {"vector packed", Len(1, Len(1, Entry("v", Len(4, Len(1, packed))))), true},
      {"vector unpacked", Len(1, Len(1, Entry("v", Len(4, unpacked + unpacked)))), true},
      {"vector packed and unpacked",
       Len(1, Len(1, Entry("v", Len(4, unpacked + Len(1, packed))))), true},
      {"vector packed, 7 bytes", Len(1, Len(1, Entry("v", Len(4, Len(1, packed.substr(0, 7)))))),
       false},
      {"vector packed, 6 bytes", Len(1, Len(1, Entry("v", Len(4, Len(1, packed.substr(0, 6)))))),
       false},
      {"vector values as varint", Len(1, Len(1, Entry("v", Len(4, VarintField(1, 3))))), true},
      {"vectors merge", Len(1, Len(1, Entry("v", Len(4, unpacked) + Len(4, Len(1, packed))))),
       true},
      {"vector then categories",
       Len(1, Len(1, Entry("v", Len(4, unpacked) + Len(3, Len(1, "p"))))), true},
  };
  ParsedPredict ours;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ::testing::AssertionResult same = SamePredict(c.bytes, ours);
    ASSERT_TRUE(same);
    EXPECT_EQ(same.message(), std::string(c.valid ? "valid" : "invalid"));
  }
}

TEST(ParsedRequestTest, HandMadeEventsReadAsProtobufDoes) {
  const std::string item = Len(1, "m1") + Len(2, Len(1, Entry("b", Number(0.5))));
  const std::string ctx = Len(1, Entry("a", Category("x")));
  const std::string event = Len(1, ctx) + Len(2, item) + Fixed64(3, 1) + Fixed64(4, 2) +
                            Len(5, "e1") + Len(6, "p1") + VarintField(7, 1234);
  const struct {
    const char* name;
    std::string bytes;
    bool valid;
  } cases[] = {
      {"one event", Len(1, event), true},
      {"two events", Len(1, event) + Len(1, event), true},
      {"item twice merges", Len(1, event + Len(2, Len(1, "m2") + Len(2, ctx))), true},
      {"context after item", Len(1, Len(2, item) + Len(1, ctx) + Len(1, ctx)), true},
      {"label as varint: unknown, not set", Len(1, Len(2, item) + VarintField(3, 1)), true},
      {"label twice: last", Len(1, event + Fixed64(3, 0)), true},
      {"negative time", Len(1, event + VarintField(7, static_cast<uint64_t>(-5))), true},
      {"label short", Len(1, Len(2, item) + "\x19\x00\x00"), false},
      {"event id not UTF-8", Len(1, event + Len(5, "\x80")), false},
      {"prediction id not UTF-8", Len(1, event + Len(6, "\xc3")), false},
      {"groups 99 deep in an event", Len(1, event + NestedGroups(99)), true},
      {"groups 100 deep in an event", Len(1, event + NestedGroups(100)), false},
      {"event with wrong wire type", Fixed64(1, 3), true},
  };
  ParsedObserve ours;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ::testing::AssertionResult same = SameObserve(c.bytes, ours);
    ASSERT_TRUE(same);
    EXPECT_EQ(same.message(), std::string(c.valid ? "valid" : "invalid"));
  }
}

// ---- random messages ----

class RandomWriter {
 public:
  explicit RandomWriter(uint64_t seed) : rng_(seed) {}

  std::string Predict() {
    std::string out;
    for (int n = Pick(6), i = 0; i < n; ++i) {
      switch (Pick(5)) {
        case 0: out += Len(1, Features(3)); break;
        case 1: case 2: out += Len(2, Item(3)); break;
        case 3: out += VarintField(3, RandomVarint()); break;
        default: out += Unknown(0); break;
      }
    }
    return out;
  }
  std::string Observe() {
    std::string out;
    for (int n = Pick(4), i = 0; i < n; ++i) out += Pick(5) == 0 ? Unknown(0) : Len(1, Event());
    return out;
  }
  // Mutate: a few random edits of valid bytes (most make them invalid, some not).
  std::string Mutate(std::string s) {
    for (int n = 1 + Pick(3), i = 0; i < n; ++i) {
      const size_t at = s.empty() ? 0 : Pick(static_cast<int>(s.size()));
      switch (Pick(5)) {
        case 0: if (!s.empty()) s[at] = static_cast<char>(Pick(256)); break;
        case 1: s.resize(at); break;
        case 2: s.insert(at, 1, static_cast<char>(Pick(256))); break;
        case 3: if (!s.empty()) s.erase(at, 1); break;
        default: s.insert(at, s.substr(at, Pick(8))); break;
      }
    }
    return s;
  }

 private:
  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  uint64_t RandomVarint() {
    switch (Pick(4)) {
      case 0: return Pick(3);
      case 1: return rng_();
      case 2: return uint64_t{1} << Pick(64);
      default: return Pick(1 << 20);
    }
  }
  std::string String() {
    static const char* const kStrings[] = {
        "", "a", "C1", "item_id", "abcdefghijklmnop", "\xc3\xbc", "\xe2\x82\xac",
        "\xf0\x9f\x98\x80", "\xff", "\xed\xa0\x80", "\xc0\x80", "\xf4\x90\x80\x80", "x\x80",
        "long name with \xc3\xa9 inside"};
    return kStrings[Pick(sizeof(kStrings) / sizeof(kStrings[0]))];
  }
  std::string Unknown(int depth) {
    uint32_t field = Pick(6) == 0 ? Pick(8) : 10 + Pick(100);  // sometimes a known number
    std::string out;
    switch (Pick(7)) {
      case 0: out = VarintField(field, RandomVarint()); break;
      case 1: out = Fixed64(field, 1.25); break;
      case 2: out = Len(field, String()); break;
      case 3: Tag(out, field, 5); out += "abcd"; break;
      case 4: out = depth < 3 ? Group(field == 0 ? 1 : field, Unknown(depth + 1)) : ""; break;
      case 5: out = Pick(8) == 0 ? NestedGroups(95 + Pick(8)) : ""; break;
      default: Tag(out, field, 6 + Pick(2)); break;  // invalid wire type
    }
    return out;
  }
  std::string Vector() {
    std::string out;
    for (int n = Pick(4), i = 0; i < n; ++i) {
      const float x = static_cast<float>(Pick(1000)) / 7.0f;
      if (Pick(2) == 0) {
        Tag(out, 1, 5);
        out.append(reinterpret_cast<const char*>(&x), 4);
      } else {
        std::string packed;
        for (int k = Pick(4); k > 0; --k) packed.append(reinterpret_cast<const char*>(&x), 4);
        if (Pick(10) == 0) packed.append(1 + Pick(3), 'z');  // not a whole float
        out += Len(1, packed);
      }
    }
    if (Pick(5) == 0) out += Unknown(0);
    return out;
  }
  std::string Value() {
    std::string out;
    for (int n = Pick(4), i = 0; i < n; ++i) {
      switch (Pick(6)) {
        case 0: out += Len(1, String()); break;
        case 1: out += Fixed64(2, Pick(100) / 3.0); break;
        case 2: {
          std::string list;
          for (int k = Pick(3); k > 0; --k) list += Len(1, String());
          out += Len(3, list);
          break;
        }
        case 3: out += Len(4, Vector()); break;
        case 4: out += VarintField(2, 1); break;  // number with a wrong wire type
        default: out += Unknown(0); break;
      }
    }
    return out;
  }
  std::string Features(int entries) {
    std::string out;
    for (int n = Pick(entries + 1), i = 0; i < n; ++i) {
      std::string entry;
      for (int f = Pick(4), k = 0; k < f; ++k) {
        switch (Pick(4)) {
          case 0: case 1: entry += Len(1, String()); break;
          case 2: entry += Len(2, Value()); break;
          default: entry += Unknown(0); break;
        }
      }
      out += Pick(8) == 0 ? Unknown(0) : Len(1, entry);
    }
    return out;
  }
  std::string Item(int entries) {
    std::string out;
    for (int n = Pick(4), i = 0; i < n; ++i) {
      switch (Pick(4)) {
        case 0: case 1: out += Len(1, String()); break;
        case 2: out += Len(2, Features(entries)); break;
        default: out += Unknown(0); break;
      }
    }
    return out;
  }
  std::string Event() {
    std::string out;
    for (int n = Pick(8), i = 0; i < n; ++i) {
      switch (Pick(9)) {
        case 0: out += Len(1, Features(3)); break;
        case 1: out += Len(2, Item(3)); break;
        case 2: out += Fixed64(3, Pick(3) / 2.0); break;
        case 3: out += Fixed64(4, Pick(10)); break;
        case 4: out += Len(5, String()); break;
        case 5: out += Len(6, String()); break;
        case 6: out += VarintField(7, RandomVarint()); break;
        case 7: out += VarintField(3, 1); break;  // label with a wrong wire type
        default: out += Unknown(0); break;
      }
    }
    return out;
  }

  std::mt19937_64 rng_;
};

// RandomRun: 100,000 random messages from `write`, every other one mutated.
template <typename View, typename Parsed, typename Write>
void RandomRun(uint64_t seed, Write write) {
  RandomWriter writer(seed);
  Parsed ours;
  int valid = 0, invalid = 0;
  for (int i = 0; i < 100000; ++i) {
    std::string bytes = write(writer);
    if (i % 2 == 1) bytes = writer.Mutate(std::move(bytes));
    ::testing::AssertionResult same = Same<View>(bytes, ours);
    ASSERT_TRUE(same) << "case " << i;
    (std::string(same.message()) == "valid" ? valid : invalid)++;
  }
  // Both outcomes are well represented (the check compares something).
  EXPECT_GT(valid, 15000);
  EXPECT_GT(invalid, 15000);
}

TEST(ParsedRequestTest, RandomPredictRequestsReadAsProtobufDoes) {
  RandomRun<internal::PredictRequestView, ParsedPredict>(
      12, [](RandomWriter& w) { return w.Predict(); });
}

TEST(ParsedRequestTest, RandomObserveRequestsReadAsProtobufDoes) {
  RandomRun<internal::ObserveRequestView, ParsedObserve>(
      34, [](RandomWriter& w) { return w.Observe(); });
}

// A large request's arrays are not kept once it is handled (handlers and streams keep
// one parser each).
TEST(ParsedRequestTest, ReleaseLargeFreesWhatALargeRequestGrew) {
  std::string many;
  for (int i = 0; i < 20000; ++i) many += Len(1, "");  // 20,000 empty events
  ParsedObserve ours;
  ASSERT_TRUE(ours.Parse(many));
  ASSERT_EQ(ours.events.size(), 20000u);
  ours.ReleaseLarge();
  EXPECT_EQ(ours.events.capacity(), 0u);
  std::string few = Len(1, "");
  ASSERT_TRUE(ours.Parse(few));
  ours.ReleaseLarge();
  EXPECT_GT(ours.events.capacity(), 0u);  // small ones are kept for reuse
}

// ParseMessage: an in-process message reads as its bytes do, and the views outlive it.
TEST(ParsedRequestTest, ParseMessageKeepsItsOwnCopy) {
  ParsedPredict ours;
  {
    v1::PredictRequest request;
    (*request.mutable_context()->mutable_values())["user"].set_category("u1");
    request.add_candidates()->set_id("m1");
    request.set_top_k(1);
    ASSERT_TRUE(ours.ParseMessage(request));
  }
  ASSERT_EQ(ours.candidates.size(), 1u);
  EXPECT_EQ(ours.candidates[0].id, "m1");
  ASSERT_EQ(ours.entries(ours.context).size(), 1u);
  EXPECT_EQ(ours.entries(ours.context)[0].key, "user");
  EXPECT_EQ(ours.entries(ours.context)[0].value.category, "u1");
  EXPECT_EQ(ours.top_k, 1u);
}

}  // namespace
}  // namespace streamrec::server
