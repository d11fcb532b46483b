#include "model/hash.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace streamrec::model {

uint64_t HashName(std::string_view name) {
  return XXH3_64bits(name.data(), name.size());
}

uint64_t HashCategory(uint64_t name_hash, std::string_view value) {
  return XXH3_64bits_withSeed(value.data(), value.size(), name_hash);
}

uint64_t HashVectorDim(uint64_t name_hash, uint32_t dim) {
  const unsigned char bytes[4] = {
      static_cast<unsigned char>(dim), static_cast<unsigned char>(dim >> 8),
      static_cast<unsigned char>(dim >> 16), static_cast<unsigned char>(dim >> 24)};
  return XXH3_64bits_withSeed(bytes, sizeof(bytes), name_hash + 1);
}

uint64_t HashCross(const uint64_t* hashes, size_t n) {
  static const uint64_t kSeed = HashName("cross");
  unsigned char bytes[8 * 8];
  const size_t count = n < 8 ? n : 8;
  for (size_t i = 0; i < count; ++i) {
    for (int b = 0; b < 8; ++b) bytes[8 * i + b] = static_cast<unsigned char>(hashes[i] >> (8 * b));
  }
  return XXH3_64bits_withSeed(bytes, 8 * count, kSeed);
}

}  // namespace streamrec::model
