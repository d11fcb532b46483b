#include "storage/impression.h"

#include "absl/strings/str_cat.h"
#include "storage/encoding.h"

namespace streamrec::storage {
namespace {

constexpr uint32_t kImpressionFormat = 1;
// The smallest encoding of a feature (u64 hash, f32 value, 1-byte varint field) and of
// a candidate (empty id, score, no features): bounds for counts read from a record.
constexpr size_t kMinFeatureBytes = 13;
constexpr size_t kMinCandidateBytes = 4 + 8 + 1;
constexpr size_t kMinShownBytes = 1 + 8;

void PutFeatures(std::string& out, const model::FeatureVector& features) {
  PutVarint(out, features.size());
  for (const model::HashedFeature& f : features) {
    PutU64(out, f.hash);
    PutF32(out, f.value);
    PutVarint(out, f.field);
  }
}

bool GetFeatures(Reader& in, model::FeatureVector& out) {
  uint64_t k;
  if (!in.GetVarint(k) || k > in.remaining() / kMinFeatureBytes) return false;
  out.resize(k);
  for (model::HashedFeature& f : out) {
    uint64_t field;
    if (!in.GetU64(f.hash) || !in.GetF32(f.value) || !in.GetVarint(field) ||
        field > UINT32_MAX) {
      return false;
    }
    f.field = static_cast<uint32_t>(field);
  }
  return true;
}

}  // namespace

std::string EncodeImpression(const Impression& imp) {
  std::string out;
  PutU32(out, kImpressionFormat);
  PutString(out, imp.prediction_id);
  PutU64(out, static_cast<uint64_t>(imp.time_unix_ms));
  PutU64(out, static_cast<uint64_t>(imp.expires_unix_ms));
  PutU64(out, imp.model_version);
  PutFeatures(out, imp.context);
  PutVarint(out, imp.candidates.size());
  for (const Impression::Candidate& c : imp.candidates) {
    PutString(out, c.id);
    PutF64(out, c.score);
    PutFeatures(out, c.features);
  }
  PutVarint(out, imp.shown.size());
  for (size_t r = 0; r < imp.shown.size(); ++r) {
    PutVarint(out, imp.shown[r]);
    PutF64(out, r < imp.propensities.size() ? imp.propensities[r] : 1.0);
  }
  Seal(out);
  return out;
}

absl::StatusOr<Impression> DecodeImpression(std::string_view sealed) {
  const auto damaged = [](std::string_view why) {
    return absl::DataLossError(std::string("impression record damaged: ").append(why));
  };
  std::string_view payload;
  if (!Unseal(sealed, payload)) return damaged("checksum mismatch or truncated");
  Reader in(payload);
  uint32_t format;
  if (!in.GetU32(format)) return damaged("truncated");
  if (format != kImpressionFormat) {
    return absl::DataLossError(absl::StrCat("impression record of format ", format,
                                            "; this build reads format ", kImpressionFormat));
  }
  Impression imp;
  uint64_t time, expires, n;
  if (!in.GetString(imp.prediction_id) || !in.GetU64(time) || !in.GetU64(expires) ||
      !in.GetU64(imp.model_version) || !GetFeatures(in, imp.context) || !in.GetVarint(n) ||
      n > in.remaining() / kMinCandidateBytes) {
    return damaged("header or context");
  }
  imp.time_unix_ms = static_cast<int64_t>(time);
  imp.expires_unix_ms = static_cast<int64_t>(expires);
  imp.candidates.resize(n);
  for (Impression::Candidate& c : imp.candidates) {
    if (!in.GetString(c.id) || !in.GetF64(c.score) || !GetFeatures(in, c.features)) {
      return damaged("candidate");
    }
  }
  uint64_t m;
  if (!in.GetVarint(m) || m > in.remaining() / kMinShownBytes || m > n) {
    return damaged("shown items");
  }
  imp.shown.resize(m);
  imp.propensities.resize(m);
  for (size_t r = 0; r < m; ++r) {
    uint64_t index;
    if (!in.GetVarint(index) || index >= n || !in.GetF64(imp.propensities[r])) {
      return damaged("shown item");
    }
    imp.shown[r] = static_cast<uint32_t>(index);
  }
  if (!in.done()) return damaged("trailing bytes");
  return imp;
}

std::string ImpressionKey(std::string_view id) { return std::string("p").append(id); }
std::string RewardedKey(std::string_view id) { return std::string("r").append(id); }
std::string ExpiryKey(int64_t expires, std::string_view id) {
  return std::string("t").append(BigEndianKey(static_cast<uint64_t>(expires))).append(id);
}
std::string ExpiryBegin() { return "t"; }
std::string ExpiryEnd(int64_t unix_ms) {
  return absl::StrCat("t", BigEndianKey(static_cast<uint64_t>(unix_ms)));
}

bool ParseExpiryKey(std::string_view key, int64_t& expires, std::string& id) {
  if (key.size() < 9 || key[0] != 't') return false;
  expires = static_cast<int64_t>(DecodeBigEndianKey(key.substr(1, 8)));
  id.assign(key.substr(9));
  return true;
}

bool IsRewarded(std::string_view bitmap, uint32_t index) {
  const size_t byte = index / 8;
  return byte < bitmap.size() && (static_cast<uint8_t>(bitmap[byte]) >> (index % 8) & 1) != 0;
}

void SetRewarded(std::string& bitmap, uint32_t index) {
  const size_t byte = index / 8;
  if (bitmap.size() <= byte) bitmap.resize(byte + 1, '\0');
  bitmap[byte] = static_cast<char>(static_cast<uint8_t>(bitmap[byte]) | (1u << (index % 8)));
}

}  // namespace streamrec::storage
