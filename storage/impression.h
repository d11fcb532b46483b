// Impression: one logged prediction (PredictRequest.log_impression), the record a reward
// that names only its prediction_id is joined with (server/reward_join.h), and its
// encoding in the impression store (storage/impression_store.h). Pure values and
// functions; thread-compatible.
//
// Keys of the impressions keyspace (README "On-disk layout"):
//   "p" prediction_id                 -> EncodeImpression (sealed)
//   "t" BE64(expires_unix_ms) prediction_id -> ""  (the expiry index, oldest first)
//   "r" prediction_id                 -> rewarded bitmap: bit i of byte i/8 set once
//                                        candidate i got a reward
// Encoding (format 1): u32 1, string prediction_id, u64 time_unix_ms, u64
// expires_unix_ms, u64 model_version, features context, varint n, n x candidate
// (string id, f64 score, features), varint m, m x shown (varint candidate index, f64
// propensity), checksum; features: varint k, k x (u64 hash, f32 value, varint field).
// Decoding checks every count against the bytes left: a damaged record is DataLoss,
// never a large allocation.
#ifndef STREAMREC_STORAGE_IMPRESSION_H_
#define STREAMREC_STORAGE_IMPRESSION_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "model/example.h"

namespace streamrec::storage {

struct Impression {
  std::string prediction_id;
  int64_t time_unix_ms = 0;     // when Predict answered
  int64_t expires_unix_ms = 0;  // time_unix_ms + the join window
  uint64_t model_version = 0;
  model::FeatureVector context;  // hashed, as the converter made them
  struct Candidate {
    std::string id;
    double score = 0;
    model::FeatureVector features;  // the item's, item_id included
  };
  std::vector<Candidate> candidates;  // request order
  // The returned items, best first: candidate indices, and the propensity with which the
  // policy put each at its position (1 when greedy).
  std::vector<uint32_t> shown;
  std::vector<double> propensities;
};

std::string EncodeImpression(const Impression& impression);
absl::StatusOr<Impression> DecodeImpression(std::string_view sealed);

std::string ImpressionKey(std::string_view prediction_id);
std::string ExpiryKey(int64_t expires_unix_ms, std::string_view prediction_id);
std::string RewardedKey(std::string_view prediction_id);
// The expiry index's range [ExpiryBegin(), ExpiryEnd(t)) holds the impressions whose
// window closed before t (expires_unix_ms < t).
std::string ExpiryBegin();
std::string ExpiryEnd(int64_t unix_ms);
// ParseExpiryKey: (expires_unix_ms, prediction_id) of an expiry key; false if malformed.
bool ParseExpiryKey(std::string_view key, int64_t& expires_unix_ms, std::string& prediction_id);

// Rewarded bitmaps.
bool IsRewarded(std::string_view bitmap, uint32_t index);
void SetRewarded(std::string& bitmap, uint32_t index);

}  // namespace streamrec::storage

#endif  // STREAMREC_STORAGE_IMPRESSION_H_
