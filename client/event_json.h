// JsonEventParser: one line of `streamrec replay`'s jsonl format into a streamrec.v1.Event,
// with exactly the result of protobuf's JSON mapping
// (google::protobuf::util::JsonStringToMessage, default options: unknown fields are
// errors), several times faster on the lines `streamrec generate` and other JSON encoders
// write.
//
//   JsonEventParser parser;
//   v1::Event event;
//   std::string error;
//   if (!parser.Parse(line, event, error)) ...  // error: "not a streamrec.v1.Event ..."
//
// Two paths. The fast one reads the line with simdjson's on-demand API and builds the
// Event directly; it takes only what it is sure protobuf reads the same way: objects with
// the messages' field names (lowerCamelCase json_name or the proto name, escapes allowed),
// each field at most once, at most one FeatureValue kind, distinct map keys, strings for
// string fields, JSON numbers for double/float fields (integers only where the
// floating-point type holds them exactly, floats within float range for Vector values),
// the strings "NaN", "Infinity" and "-Infinity" for double fields, and integers or
// canonical decimal strings for time_unix_ms. Anything else (null, other strings for
// numbers, unknown or repeated fields, two kinds, invalid JSON, a string whose escapes do
// not decode to UTF-8, trailing bytes ...) goes to protobuf's parser for that line, which
// accepts it or gives the error (the same message as before the fast path existed). So
// every line is accepted or rejected exactly as protobuf does, with the same Event; the
// differential test (tests/event_json_test.cc) checks this on valid, edge and randomly
// mutated lines.
//
// Thread-compatible: one parser per thread (it owns simdjson's buffers). The Event may
// live on an Arena.
#ifndef STREAMREC_CLIENT_EVENT_JSON_H_
#define STREAMREC_CLIENT_EVENT_JSON_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "streamrec/v1/streamrec.pb.h"

namespace streamrec::client {

class JsonEventParser {
 public:
  JsonEventParser();
  ~JsonEventParser();
  // A copy is a fresh parser (the state is only buffers and the counts, which start at
  // zero), so that a parser can be handed to each thread.
  JsonEventParser(const JsonEventParser&) : JsonEventParser() {}
  JsonEventParser& operator=(const JsonEventParser&) { return *this; }

  // Parse fills `event` (cleared first) from one JSON object; false with `error` set
  // ("not a streamrec.v1.Event in JSON: " and protobuf's reason) when protobuf's JSON
  // mapping rejects the line. `event` is unspecified after a failure.
  bool Parse(std::string_view line, v1::Event& event, std::string& error);

  // Lines parsed by each path (for tests and benchmarks).
  uint64_t fast_lines() const { return fast_lines_; }
  uint64_t fallback_lines() const { return fallback_lines_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint64_t fast_lines_ = 0, fallback_lines_ = 0;
};

// ProtobufJsonEvent: protobuf's parser alone (the fallback, and the reference the
// differential test and the benchmark compare against); same contract as Parse.
bool ProtobufJsonEvent(std::string_view line, v1::Event& event, std::string& error);

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_EVENT_JSON_H_
