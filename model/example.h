// Hashed examples: the model's input after the server has validated and hashed a
// request. Plain values, thread-compatible.
#ifndef STREAMREC_MODEL_EXAMPLE_H_
#define STREAMREC_MODEL_EXAMPLE_H_

#include <cstdint>
#include <vector>

namespace streamrec::model {

// HashedFeature is one (hash, value) pair: a category or list entry has value 1, a
// number its value, a vector dimension its component. See model/hash.h. `field` names
// the field it came from (FieldId of the field name's hash), so models can cross fields
// and keep per-field parameters; 0 means unknown (events logged before fields were
// recorded, event-log record formats 1 and 2).
struct HashedFeature {
  uint64_t hash = 0;
  float value = 0;
  uint32_t field = 0;
};

using FeatureVector = std::vector<HashedFeature>;

// Example is one labelled event: all its features (context, item and item_id), a label
// in [0, 1] and a weight >= 0.
struct Example {
  FeatureVector features;
  float label = 0;
  float weight = 1;
  // Event time, Unix milliseconds (stamped by the server when the client left it 0).
  int64_t time_unix_ms = 0;
};

}  // namespace streamrec::model

#endif  // STREAMREC_MODEL_EXAMPLE_H_
