// Differential test of JsonEventParser (client/event_json.h) against protobuf's
// JsonStringToMessage: the same lines through both must give the same Event (compared as
// deterministic serialized bytes, so NaN, -0 and map contents count bit for bit) or both
// an error, with the same message. Lines: events of the criteo generator and random
// events with every field printed by protobuf in both field-name styles; hand-written
// edge cases; and many lines mutated at random (byte flips, deletions, insertions,
// truncations, values swapped for values of another type, keys renamed).
#include "client/event_json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "client/criteo_events.h"
#include "client/criteo_generator.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/json_util.h"

namespace streamrec::client {
namespace {

std::string Bytes(const v1::Event& e) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    e.SerializeToCodedStream(&coded);
  }
  return out;
}

struct Outcome {
  bool ok;
  std::string bytes_or_error;
};

// Check: both parsers on `line`; returns whether the fast path took it.
bool Check(JsonEventParser& parser, const std::string& line) {
  v1::Event fast, reference;
  std::string fast_error, reference_error;
  const uint64_t fast_before = parser.fast_lines();
  const bool fast_ok = parser.Parse(line, fast, fast_error);
  const bool reference_ok = ProtobufJsonEvent(line, reference, reference_error);
  EXPECT_EQ(fast_ok, reference_ok) << line << "\nfast: " << fast_error
                                   << "\nprotobuf: " << reference_error;
  if (fast_ok && reference_ok) {
    EXPECT_EQ(Bytes(fast), Bytes(reference))
        << line << "\nfast: " << fast.ShortDebugString()
        << "\nprotobuf: " << reference.ShortDebugString();
  } else if (!fast_ok && !reference_ok) {
    EXPECT_EQ(fast_error, reference_error) << line;
  }
  return parser.fast_lines() > fast_before;
}

std::string Json(const v1::Event& e, bool proto_names) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = proto_names;
  std::string out;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(e, &out, options).ok());
  return out;
}

// RandomText: short strings with what JSON must escape, multi-byte UTF-8 and emoji.
std::string RandomText(std::mt19937_64& rng) {
  static const std::vector<std::string> kPieces = {
      "a", "Z", "7", " ", "\"", "\\", "/", "\n", "\t", "\x01", "\x1f", "\xc3\xa9",
      "\xe2\x82\xac", "\xf0\x9f\x98\x80", "u0041", ":", "{", "}", "[", "]", ","};
  std::string s;
  const int n = static_cast<int>(rng() % 8);
  for (int i = 0; i < n; ++i) s += kPieces[rng() % kPieces.size()];
  return s;
}

double RandomDouble(std::mt19937_64& rng) {
  switch (rng() % 8) {
    case 0: return static_cast<double>(static_cast<int64_t>(rng() % 2000) - 1000);
    case 1: return std::ldexp(static_cast<double>(rng() % 1000000), -static_cast<int>(rng() % 60));
    case 2: return -std::ldexp(static_cast<double>(rng()), static_cast<int>(rng() % 900));
    case 3: return std::ldexp(1.0, -1074 + static_cast<int>(rng() % 60));  // subnormal
    case 4: return std::numeric_limits<double>::quiet_NaN();
    case 5: return rng() % 2 ? std::numeric_limits<double>::infinity()
                             : -std::numeric_limits<double>::infinity();
    case 6: return rng() % 2 ? 0.0 : -0.0;
    default: {
      double d;
      uint64_t bits = rng();
      std::memcpy(&d, &bits, sizeof d);
      return std::isfinite(d) ? d : 1.5;
    }
  }
}

void RandomFeatures(std::mt19937_64& rng, v1::Features& f) {
  const int n = static_cast<int>(rng() % 6);
  for (int i = 0; i < n; ++i) {
    v1::FeatureValue& v = (*f.mutable_values())[RandomText(rng)];
    switch (rng() % 5) {
      case 0: v.set_category(RandomText(rng)); break;
      case 1: v.set_number(RandomDouble(rng)); break;
      case 2: {
        auto* c = v.mutable_categories();
        for (int k = static_cast<int>(rng() % 4); k > 0; --k) c->add_values(RandomText(rng));
        break;
      }
      case 3: {
        auto* x = v.mutable_vector();
        for (int k = static_cast<int>(rng() % 5); k > 0; --k) {
          const double d = rng() % 3 ? RandomDouble(rng) : (rng() % 100) / 7.0;
          x->add_values(std::isfinite(d) && std::fabs(d) > std::numeric_limits<float>::max()
                            ? std::numeric_limits<float>::infinity()
                            : static_cast<float>(d));
        }
        break;
      }
      default: break;  // no kind set
    }
  }
}

v1::Event RandomEvent(std::mt19937_64& rng) {
  v1::Event e;
  if (rng() % 4) RandomFeatures(rng, *e.mutable_context());
  if (rng() % 4) {
    e.mutable_item()->set_id(RandomText(rng));
    if (rng() % 2) RandomFeatures(rng, *e.mutable_item()->mutable_features());
  }
  if (rng() % 4) e.set_label(rng() % 3 ? static_cast<double>(rng() % 2) : RandomDouble(rng));
  if (rng() % 3 == 0) e.set_weight(RandomDouble(rng));
  if (rng() % 3 == 0) e.set_event_id(RandomText(rng));
  if (rng() % 3 == 0) e.set_prediction_id(RandomText(rng));
  if (rng() % 3 == 0) {
    e.set_time_unix_ms(static_cast<int64_t>(rng()) >> static_cast<int>(rng() % 63));
  }
  return e;
}

// ValidLines: the generator's 40-feature events (both layouts' jsonl) and random events,
// in both field-name styles.
std::vector<std::string> ValidLines() {
  std::vector<std::string> lines;
  CriteoStream stream(40, 1000, 7);
  v1::Event e;
  for (int i = 0; i < 300; ++i) {
    ToApiEvent(stream.Next(), i % 2 == 0, false, e);
    lines.push_back(Json(e, i % 3 == 0));
  }
  std::mt19937_64 rng(11);
  for (int i = 0; i < 2000; ++i) lines.push_back(Json(RandomEvent(rng), i % 2 == 0));
  return lines;
}

TEST(EventJson, GeneratedEventsTakeTheFastPath) {
  JsonEventParser parser;
  CriteoStream stream(40, 1000, 3);
  v1::Event e;
  for (int i = 0; i < 500; ++i) {
    ToApiEvent(stream.Next(), false, false, e);
    e.set_event_id("run:" + std::to_string(i));
    e.set_time_unix_ms(1700000000000 + i);
    EXPECT_TRUE(Check(parser, Json(e, i % 2 == 0))) << i;
  }
  EXPECT_EQ(parser.fallback_lines(), 0u);
}

TEST(EventJson, ValidLinesAgree) {
  JsonEventParser parser;
  for (const std::string& line : ValidLines()) Check(parser, line);
  // Only lines with a NaN or an infinite float in a vector ("NaN" strings) or an int64
  // string protobuf reads but the fast path does not take may fall back.
  EXPECT_GT(parser.fast_lines(), parser.fallback_lines() * 4);
}

// Lines the fast path must take itself (each also checked against protobuf).
TEST(EventJson, FastPathCoversBothNameStylesStringsAndSpecialDoubles) {
  const std::vector<std::string> lines = {
      R"({"label":1,"item":{"id":"m7"},"context":{"values":{"user":{"category":"u1"}}}})",
      R"({"time_unix_ms":"123","timeUnixMs_":1})",  // unknown: falls back (checked below)
      R"({"time_unix_ms":"123","event_id":"e","prediction_id":"p"})",
      R"({"timeUnixMs":123,"eventId":"e","predictionId":"p"})",
      R"({"timeUnixMs":"-9223372036854775808"})",
      R"({"label":"NaN","weight":"Infinity"})",
      R"({"label":"-Infinity"})",
      R"({"label":-0,"weight":-0.0})",
      R"({"label":9007199254740992})",
      R"({"context":{"values":{"v":{"vector":{"values":[1,2.5,-3e2,0.1,16777216]}}}}})",
      R"({"context":{"values":{"c":{"categories":{"values":["a","b\"c","\u00e9"]}}}}})",
      R"({"context":{"values":{"a\u0062":{"number":1}},"x":1}})",  // unknown "x"
      R"({"c\u006fntext":{"values":{"\ud83d\ude00":{"category":"\ud83d\ude00"}}}})",
      " \t{\"label\":1} \r",
      R"({"item":{"features":{"values":{"f":{}}},"id":""}})",
  };
  JsonEventParser parser;
  std::vector<bool> fast;
  for (const std::string& line : lines) fast.push_back(Check(parser, line));
  for (size_t i = 0; i < lines.size(); ++i) {
    const bool expect_fast = i != 1 && i != 11;
    EXPECT_EQ(fast[i], expect_fast) << lines[i];
  }
}

TEST(EventJson, EdgeCasesAgree) {
  const std::vector<std::string> lines = {
      "", " ", "{}", "[]", "null", "1", "\"x\"", "[{\"label\":1}]", "{", "}", "{}}", "{} {}",
      "{},", "{}x", "\xEF\xBB\xBF{\"label\":1}", "{\"label\":1}//c", "{\"label\":1,}",
      "{,\"label\":1}", "{\"label\" 1}", "{\"label\":1", "{'label':1}", "{label:1}",
      "{\"label\":1}\n", "{\"label\":1}\x00", std::string("{\"label\":1}\0", 12),
      R"({"label":01})", R"({"label":1.})", R"({"label":.5})", R"({"label":+1})",
      R"({"label":1e})", R"({"label":1e+})", R"({"label":-})", R"({"label":--1})",
      R"({"label":1x})", R"({"label":0x10})", R"({"label":1e400})", R"({"label":-1e400})",
      R"({"label":1e-400})", R"({"label":4.9e-324})", R"({"label":2.2250738585072014e-308})",
      R"({"label":1.7976931348623157e308})", R"({"label":1.7976931348623159e308})",
      R"({"label":9007199254740993})", R"({"label":-9007199254740993})",
      R"({"label":9223372036854775807})", R"({"label":9223372036854775808})",
      R"({"label":18446744073709551615})", R"({"label":18446744073709551616})",
      R"({"label":-9223372036854775809})", R"({"label":123456789012345678901234567890})",
      R"({"label":1E2})", R"({"label":0.1e1})", R"({"label":"1"})", R"({"label":"1.5"})",
      R"({"label":" 1"})", R"({"label":"1 "})", R"({"label":"0x10"})", R"({"label":"nan"})",
      R"({"label":"inf"})", R"({"label":"-NaN"})", R"({"label":"N\u0061N"})",
      R"({"label":NaN})", R"({"label":Infinity})", R"({"label":null})", R"({"label":true})",
      R"({"label":false})", R"({"label":[1]})", R"({"label":{}})", R"({"label":1,"label":0})",
      R"({"label":1e0,"weight":1e-1})", R"({"weight":null,"label":1})",
      R"({"timeUnixMs":1e3})", R"({"timeUnixMs":1.0})", R"({"timeUnixMs":1.5})",
      R"({"timeUnixMs":"1e3"})", R"({"timeUnixMs":"1.0"})", R"({"timeUnixMs":"007"})",
      R"({"timeUnixMs":"-0"})", R"({"timeUnixMs":"0"})", R"({"timeUnixMs":"+12"})",
      R"({"timeUnixMs":" 12"})", R"({"timeUnixMs":"12 "})", R"({"timeUnixMs":""})",
      R"({"timeUnixMs":"-"})", R"({"timeUnixMs":9223372036854775807})",
      R"({"timeUnixMs":9223372036854775808})", R"({"timeUnixMs":"9223372036854775808"})",
      R"({"timeUnixMs":-9223372036854775808})", R"({"timeUnixMs":-9223372036854775809})",
      R"({"timeUnixMs":null})", R"({"timeUnixMs":true})", R"({"timeUnixMs":1,"time_unix_ms":2})",
      R"({"time_unix_ms":2,"timeUnixMs":1})", R"({"timeunixms":1})", R"({"time_unixMs":1})",
      R"({"eventId":"e1","event_id":"e2"})", R"({"eventId":1})", R"({"eventId":null})",
      R"({"eventId":true})", R"({"eventId":["a"]})", R"({"eventid":"x"})", R"({"EventId":"x"})",
      R"({"event_Id":"x"})", R"({"predictionId":"p","prediction_id":"q"})",
      R"({"unknown":1})", R"({"unknown":null})", R"({"Label":1})", R"({"label ":1})",
      R"({"context":null})", R"({"context":1})", R"({"context":[]})", R"({"context":{}})",
      R"({"context":{"values":{}}})", R"({"context":{"values":null}})",
      R"({"context":{"values":[]}})", R"({"context":{"values":{"a":null}}})",
      R"({"context":{"values":{"a":1}}})", R"({"context":{"values":{"a":"x"}}})",
      R"({"context":{"values":{"a":{}}}})", R"({"context":{"values":{"a":{"category":"x"}}}})",
      R"({"context":{"values":{"a":{"category":"x","number":1}}}})",
      R"({"context":{"values":{"a":{"number":1,"category":"x"}}}})",
      R"({"context":{"values":{"a":{"category":"x","category":"y"}}}})",
      R"({"context":{"values":{"a":{"category":null}}}})",
      R"({"context":{"values":{"a":{"category":null,"number":1}}}})",
      R"({"context":{"values":{"a":{"number":1,"category":null}}}})",
      R"({"context":{"values":{"a":{"category":1}}}})",
      R"({"context":{"values":{"a":{"number":1},"a":{"number":2}}}})",
      R"({"context":{"values":{"a":{"number":1},"a":{"category":"x"}}}})",
      R"({"context":{"values":{"a":{"number":"NaN"}}}})",
      R"({"context":{"values":{"a":{"number":"1.5"}}}})",
      R"({"context":{"values":{"a":{"number":"Infinity"}}}})",
      R"({"context":{"values":{"a":{"number":true}}}})",
      R"({"context":{"values":{"a":{"categories":{"values":["x","y"]}}}}})",
      R"({"context":{"values":{"a":{"categories":{"values":[]}}}}})",
      R"({"context":{"values":{"a":{"categories":{}}}}})",
      R"({"context":{"values":{"a":{"categories":null}}}})",
      R"({"context":{"values":{"a":{"categories":{"values":null}}}}})",
      R"({"context":{"values":{"a":{"categories":{"values":"x"}}}}})",
      R"({"context":{"values":{"a":{"categories":{"values":[1]}}}}})",
      R"({"context":{"values":{"a":{"categories":{"values":[null]}}}}})",
      R"({"context":{"values":{"a":{"categories":{"values":[["x"]]}}}}})",
      R"({"context":{"values":{"a":{"categories":{"values":["x"],"values":["y"]}}}}})",
      R"({"context":{"values":{"a":{"categories":["x"]}}}})",
      R"({"context":{"values":{"a":{"categories":{"values":["x"]},"category":"y"}}}})",
      R"({"context":{"values":{"a":{"vector":{"values":[1,2.5,-3e2]}}}}})",
      R"({"context":{"values":{"a":{"vector":{"values":[16777217]}}}}})",
      R"({"context":{"values":{"a":{"vector":{"values":[-16777217]}}}}})",
      R"({"context":{"values":{"a":{"vector":{"values":[16777217.0]}}}}})",
      R"({"context":{"values":{"a":{"vector":{"values":[3.5e38]}}}}})",
      R"({"context":{"values":{"a":{"vector":{"values":[-3.5e38]}}}}})",
      R"({"context":{"values":{"a":{"vector":{"values":[3.4028235e38]}}}}})",
      R"({"context":{"values":{"a":{"vector":{"values":[3.4028235677973366e38]}}}}})",
      R"({"context":{"values":{"a":{"vector":{"values":[3.40282357e38]}}}}})",
      R"({"context":{"values":{"a":{"vector":{"values":[1e-50]}}}}})",
      R"({"context":{"values":{"a":{"vector":{"values":[1e-46]}}}}})",
      R"({"context":{"values":{"a":{"vector":{"values":["NaN","Infinity","-Infinity"]}}}}})",
      R"({"context":{"values":{"a":{"vector":{"values":["1.5"]}}}}})",
      R"({"context":{"values":{"a":{"vector":{"values":[null]}}}}})",
      R"({"context":{"values":{"a":{"vector":{"values":[true]}}}}})",
      R"({"context":{"values":{"a":{"vector":{"values":1}}}}})",
      R"({"context":{"values":{"a":{"vector":{"values":[1]},"number":1}}}})",
      R"({"context":{"values":{"a":{"vector":{}}}}})",
      R"({"context":{"values":{"":{"number":1}}}})",
      R"({"context":{"values":{"a\u0062":{"number":1}}}})",
      R"({"context":{"values":{"\ud800":{"number":1}}}})",
      R"({"context":{"values":{"\udc00":{"number":1}}}})",
      R"({"context":{"values":{"\ud800\ud800":{"number":1}}}})",
      R"({"context":{"values":{"\ud83d\ude00":{"number":1}}}})",
      R"({"context":{"values":{"\u0000":{"number":1}}}})",
      R"({"context":{"values":{"a":{"category":"\ud800"}}}})",
      R"({"context":{"values":{"a":{"category":"\udc00x"}}}})",
      R"({"context":{"values":{"a":{"category":"\ud83dx"}}}})",
      R"({"context":{"values":{"a":{"category":"\u00e9\n\t\"\\\/\b\f\r"}}}})",
      R"({"context":{"values":{"a":{"category":"\x"}}}})",
      R"({"context":{"values":{"a":{"category":"\u12"}}}})",
      R"({"context":{"values":{"a":{"category":"\U0041"}}}})",
      R"({"context":{"values":{"a":{"category":"\'"}}}})",
      "{\"context\":{\"values\":{\"a\":{\"category\":\"\xc3\xa9\"}}}}",
      "{\"context\":{\"values\":{\"a\":{\"category\":\"\x01\"}}}}",
      "{\"context\":{\"values\":{\"a\":{\"category\":\"\t\"}}}}",
      "{\"context\":{\"values\":{\"a\":{\"category\":\"\x7f\"}}}}",
      "{\"context\":{\"values\":{\"a\":{\"category\":\"\xff\"}}}}",
      "{\"context\":{\"values\":{\"a\":{\"category\":\"\xc3\"}}}}",
      "{\"context\":{\"values\":{\"a\":{\"category\":\"\xed\xa0\x80\"}}}}",
      "{\"context\":{\"values\":{\"\xff\":{\"number\":1}}}}",
      R"({"context":{"values":{"a":{"categ\u006fry":"x"}}}})",
      R"({"c\u006fntext":{}})",
      R"({"context":{"values":{"a":{"number":1}}},"context":{"values":{"b":{"number":2}}}})",
      R"({"context":{"values":{"a":{"number":1}},"values":{"b":{"number":2}}}})",
      R"({"context":{"values":{"item_id":{"number":1}}}})",
      R"({"context":{"values":{"a":{"number":-0}}}})",
      R"({"context":{"values":{"a":{"number":1}}},"x":{"y":{"z":[[[[1]]]]}}})",
      R"({"item":{"id":"x","features":{"values":{"f":{"number":1}}}}})",
      R"({"item":{"id":"x","id":"y"}})", R"({"item":{"id":null}})", R"({"item":null})",
      R"({"item":{"features":null}})", R"({"item":{}})", R"({"item":[]})",
      R"({"item":{"id":"x"},"item":{"id":"y"}})",
      R"({"item":{"features":{"values":{"f":{"number":1}}},"features":{}}})",
      R"({"item":{"id":"x","extra":1}})", R"({"item":{"ID":"x"}})",
      R"({"item":{"id":"x"}}})", R"({"item":{"id":"x"}} {})", R"({"item":{"id":"x"}},)",
      R"({"item":{"id":"x"})", R"({"item":{"id":"x}})", R"({"item":{"id":"x"}]})",
      R"({"item":{"id":"x"},"context":{"values":{"a":{"number":1}}},"label":1,"weight":0.5,"eventId":"e","predictionId":"p","timeUnixMs":"5"})",
  };
  JsonEventParser parser;
  for (const std::string& line : lines) Check(parser, line);
}

// Mutate: one random edit of `line`.
std::string Mutate(std::mt19937_64& rng, std::string line) {
  static const std::string kBytes = "{}[]\":,0123456789-+.eEtrufalsn \\u\x01\xff\xc3";
  static const std::vector<std::string> kValues = {
      "null", "true", "1", "-0", "1.5", "1e400", "\"x\"", "\"NaN\"", "\"1\"", "[]", "{}",
      "[1]", "[\"a\"]", "{\"values\":[]}", "{\"category\":\"c\"}", "9007199254740993",
      "\"\\ud800\"", "{\"number\":1,\"category\":\"x\"}"};
  static const std::vector<std::string> kKeys = {
      "\"context\"", "\"item\"", "\"label\"", "\"weight\"", "\"eventId\"", "\"event_id\"",
      "\"timeUnixMs\"", "\"time_unix_ms\"", "\"predictionId\"", "\"values\"", "\"category\"",
      "\"number\"", "\"categories\"", "\"vector\"", "\"id\"", "\"features\"", "\"bogus\""};
  if (line.empty()) return "{";
  const size_t at = rng() % line.size();
  switch (rng() % 8) {
    case 0:  // flip one byte to a JSON-significant one
      line[at] = kBytes[rng() % kBytes.size()];
      break;
    case 1:  // flip one bit
      line[at] = static_cast<char>(line[at] ^ (1 << (rng() % 8)));
      break;
    case 2:  // truncate
      line.resize(at);
      break;
    case 3:  // delete a span
      line.erase(at, 1 + rng() % 8);
      break;
    case 4:  // insert
      line.insert(at, 1, kBytes[rng() % kBytes.size()]);
      break;
    case 5: {  // a value of another type after some ':'
      const size_t colon = line.find(':', at);
      if (colon == std::string::npos) break;
      size_t end = colon + 1;
      int depth = 0;
      bool in_string = false;
      for (; end < line.size(); ++end) {
        const char c = line[end];
        if (in_string) {
          if (c == '\\') ++end;
          else if (c == '"') in_string = false;
          continue;
        }
        if (c == '"') in_string = true;
        else if (c == '{' || c == '[') ++depth;
        else if ((c == '}' || c == ']') && depth-- == 0) break;
        else if (c == ',' && depth == 0) break;
      }
      line.replace(colon + 1, end - colon - 1, kValues[rng() % kValues.size()]);
      break;
    }
    case 6: {  // rename a key
      const size_t quote = line.find('"', at);
      if (quote == std::string::npos) break;
      const size_t close = line.find('"', quote + 1);
      if (close == std::string::npos || close + 1 >= line.size() || line[close + 1] != ':') break;
      line.replace(quote, close - quote + 1, kKeys[rng() % kKeys.size()]);
      break;
    }
    default: {  // duplicate a span (repeated keys, nested copies)
      const size_t len = 1 + rng() % 40;
      line.insert(at, line.substr(at, len));
      break;
    }
  }
  return line;
}

TEST(EventJson, MutatedLinesAgree) {
  const std::vector<std::string> valid = ValidLines();
  std::mt19937_64 rng(2024);
  JsonEventParser parser;
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string line = valid[rng() % valid.size()];
    for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0; --edits) {
      line = Mutate(rng, line);
    }
    v1::Event e;
    std::string error;
    accepted += ProtobufJsonEvent(line, e, error);
    Check(parser, line);
    if (HasFailure()) {
      ADD_FAILURE() << "first disagreement at mutation " << i;
      return;
    }
  }
  // The mutations make both kinds of line: some still valid, most not; the fast path
  // takes many of the valid ones itself.
  std::printf("%d of 20000 mutated lines valid; fast path %lu, protobuf %lu\n", accepted,
              static_cast<unsigned long>(parser.fast_lines()),
              static_cast<unsigned long>(parser.fallback_lines()));
  EXPECT_GT(parser.fast_lines(), 1000u);
  EXPECT_GT(accepted, 1000);
  EXPECT_LT(accepted, 19000);
}

}  // namespace
}  // namespace streamrec::client
