// Feature hashing: the fixed, documented mapping from (field name, value) to a 64-bit
// hash and from a hash to a row of a 2^bits table. Every process and every client
// language must get the same answer, so this uses XXH3-64 (xxHash 0.8, seed scheme
// below) and never std::hash/absl::Hash. Pure functions; safe from any thread.
//
//   name_hash          = XXH3_64bits(name bytes)                  (seed 0)
//   category  c        = XXH3_64bits_withSeed(c bytes, name_hash)  (also each value
//                                                                    of a CategoryList)
//   number             = name_hash                     (weight multiplied by the value)
//   vector dimension i = XXH3_64bits_withSeed(uint32 i as 4 little-endian bytes,
//                                             name_hash + 1)
//   row                = hash & (2^bits - 1)
//   field id           = low 32 bits of name_hash (1 if those are 0; 0 = unknown)
//   cross of h1..hk    = XXH3_64bits_withSeed(h1..hk as little-endian u64s,
//                                             HashName("cross"))
//
// Test vectors are in tests/hash_test.cc and the README.
#ifndef STREAMREC_MODEL_HASH_H_
#define STREAMREC_MODEL_HASH_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace streamrec::model {

// HashName returns the hash of a field name; the seed for its values.
uint64_t HashName(std::string_view name);

// HashCategory returns the hash of categorical value `value` of the field whose
// HashName is `name_hash`.
uint64_t HashCategory(uint64_t name_hash, std::string_view value);

// HashVectorDim returns the hash of dimension `dim` of a vector field.
uint64_t HashVectorDim(uint64_t name_hash, uint32_t dim);

// FieldId: the 32-bit id of a field, from its HashName; never 0 (0 means "unknown field").
inline uint32_t FieldId(uint64_t name_hash) {
  const uint32_t id = static_cast<uint32_t>(name_hash);
  return id == 0 ? 1 : id;
}

// HashCross returns the hash of a crossed feature: the features' hashes, in the cross's
// declared field order, as little-endian u64s, hashed with seed HashName("cross").
uint64_t HashCross(const uint64_t* hashes, size_t n);

// RowOf maps a hash to a row in a table of 2^bits rows.
inline uint64_t RowOf(uint64_t hash, uint32_t bits) {
  return hash & ((uint64_t{1} << bits) - 1);
}

}  // namespace streamrec::model

#endif  // STREAMREC_MODEL_HASH_H_
