// ParsedPredict, ParsedObserve: a PredictRequest or ObserveRequest read straight from
// its wire bytes, without building protobuf messages: every string (feature names,
// categories, ids) is a view into the received bytes, and the features of a request are
// flat arrays of entries. Parsing a request as protobuf messages (arena strings, one
// message per feature, UTF-8 checks through the library) was half of Predict's CPU.
//
// The parser accepts exactly the bytes protobuf's parser accepts for these messages and
// reads them the same way (tests/parsed_request_test.cc compares the two on hand-made
// and random bytes): unknown fields of every wire type are skipped (groups too, nested
// at most 100 deep counting the messages around them); a known field with another wire
// type is an unknown field; a singular message given twice is merged (its repeated
// fields concatenated, its scalars last-wins); in a FeatureValue's oneof the last case
// wins and a repeated message case merges; `Vector.values` may be packed or not; every
// string, kept or overwritten, must be UTF-8; a tag 0, an unmatched end-group or a
// field running past its message fails the parse. A map is read as protobuf reads
// `repeated Entry`: entries in order, a repeated name kept as many times as it was sent
// (the converter, server/request_converter.h, keeps the last one as a map would).
//
// The views point into the bytes given to Parse (or into the copy made by
// ParseMessage): keep those alive while the result is used. One object may parse many
// requests in turn (its arrays are reused); not thread-safe, one per call.
#ifndef STREAMREC_SERVER_PARSED_REQUEST_H_
#define STREAMREC_SERVER_PARSED_REQUEST_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "google/protobuf/message.h"

namespace streamrec::server {

// A FeatureValue: which case of the oneof is set, and its value.
struct ParsedValue {
  enum class Kind : uint8_t { kNotSet, kCategory, kNumber, kCategories, kVector };
  Kind kind = Kind::kNotSet;
  double number = 0;
  std::string_view category;
  uint32_t begin = 0;  // kCategories: strings; kVector: floats (see ParsedRequest)
  uint32_t count = 0;
};

// An entry of a Features map, in request order.
struct ParsedEntry {
  std::string_view key;
  ParsedValue value;
};

// A Features message: `count` entries from `begin` (ParsedRequest::entries).
struct ParsedFeatures {
  uint32_t begin = 0;
  uint32_t count = 0;
};

struct ParsedItem {
  std::string_view id;
  ParsedFeatures features;
};

struct ParsedEvent {
  ParsedFeatures context;
  ParsedItem item;
  bool has_item = false;
  bool has_label = false;
  bool has_weight = false;
  double label = 0;
  double weight = 0;
  std::string_view event_id;
  std::string_view prediction_id;
  int64_t time_unix_ms = 0;
};

// ParsedRequest holds the flat arrays a request's features point into.
class ParsedRequest {
 public:
  std::span<const ParsedEntry> entries(ParsedFeatures f) const {
    return {entries_.data() + f.begin, f.count};
  }
  std::span<const std::string_view> categories(const ParsedValue& v) const {
    return {strings_.data() + v.begin, v.count};
  }
  std::span<const float> vector(const ParsedValue& v) const {
    return {floats_.data() + v.begin, v.count};
  }
  // ReleaseLarge frees every array a large request grew past `keep` bytes (they are kept
  // for reuse otherwise): call after a request on a long-lived object.
  static constexpr size_t kKeepBytes = size_t{1} << 20;

 protected:
  void ReleaseArrays(size_t keep);
  void ClearArrays() {
    entries_.clear();
    strings_.clear();
    floats_.clear();
  }
  friend class WireParser;
  std::vector<ParsedEntry> entries_;
  std::vector<std::string_view> strings_;
  std::vector<float> floats_;
  std::string copy_;  // ParseMessage's bytes
};

class ParsedPredict : public ParsedRequest {
 public:
  // Parse reads a streamrec.v1.PredictRequest; false when protobuf would refuse the
  // bytes (the fields are then unspecified).
  bool Parse(std::string_view bytes);
  // ParseMessage reads `request` (a v1::PredictRequest) through its serialized bytes,
  // kept by this object: how in-process callers take the gRPC handlers' path.
  bool ParseMessage(const google::protobuf::Message& request);
  void ReleaseLarge(size_t keep = kKeepBytes);

  ParsedFeatures context;
  std::vector<ParsedItem> candidates;
  uint32_t top_k = 0;
  bool has_log_impression = false;
  bool log_impression = false;
};

class ParsedObserve : public ParsedRequest {
 public:
  bool Parse(std::string_view bytes);  // a streamrec.v1.ObserveRequest, as above
  bool ParseMessage(const google::protobuf::Message& request);
  void ReleaseLarge(size_t keep = kKeepBytes);

  std::vector<ParsedEvent> events;
};

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_PARSED_REQUEST_H_
