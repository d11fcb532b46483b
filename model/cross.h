// Crosses: the interaction features a linear model learns from, built from the fields
// the model config names (like Vowpal Wabbit's -q and --cubic), on hashed values, so
// clients send plain fields. A cross of fields (a, b) adds, for every feature f of field
// a and g of field b in an event, one feature with hash HashCross(f.hash, g.hash)
// (model/hash.h) and value f.value * g.value; three fields work alike. "*" in a pair
// stands for every other field of the event ("user x *": user with each other field).
// Features of unknown field (0: logged before fields were recorded) cross with nothing;
// a crossed value that is not a finite float (1e20 x 1e20) is left out.
// Budget: an event gets at most kMaxCrossFeatures crossed features. Crosses are taken in
// config order, each whole or not at all: one whose combinations in the event exceed what
// is left of the budget is skipped for that event. The decision depends only on how many
// features of each field the event has, so training and serving (which cross a request's
// context with each candidate) always build the same features, and the work per event is
// bounded whatever the input.
//
// Crosser is immutable after construction; its methods are const and safe from any
// number of threads.
#ifndef STREAMREC_MODEL_CROSS_H_
#define STREAMREC_MODEL_CROSS_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/example.h"

namespace streamrec::model {

inline constexpr size_t kMaxCrosses = 64;
inline constexpr size_t kMaxCrossFeatures = 4096;

// Cross: the field names of one cross, in order; "*" (pairs only) is any other field.
struct Cross {
  std::vector<std::string> fields;
  bool operator==(const Cross&) const = default;
};

// ParseCross reads "user x item_id" (parts separated by " x "); InvalidArgument naming
// what is wrong otherwise.
absl::StatusOr<Cross> ParseCross(std::string_view text);
// CrossText: the canonical text of a cross ("user x item_id").
std::string CrossText(const Cross& cross);
// ValidateCrosses: each cross has 2 or 3 distinct, non-empty fields of at most 256 bytes,
// "*" only in a pair; at most kMaxCrosses.
absl::Status ValidateCrosses(const std::vector<Cross>& crosses);

class Crosser {
 public:
  explicit Crosser(const std::vector<Cross>& crosses);
  bool empty() const { return crosses_.empty(); }

  // Append adds the crosses of one event's features, given in two parts (a request's
  // context and one candidate's features; `item` may be empty), to `out`.
  void Append(std::span<const HashedFeature> context, std::span<const HashedFeature> item,
              FeatureVector& out) const;
  void Append(std::span<const HashedFeature> features, FeatureVector& out) const {
    Append(features, {}, out);
  }

 private:
  struct Compiled {
    std::vector<uint32_t> fields;  // field ids; 0 for "*"
    uint32_t field = 0;            // the crossed features' own field id
  };
  std::vector<Compiled> crosses_;
};

}  // namespace streamrec::model

#endif  // STREAMREC_MODEL_CROSS_H_
