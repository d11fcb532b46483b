// Test vectors for the documented feature hash (README "Feature hashing"). The expected
// values were computed independently with Python's xxhash package:
//   xxhash.xxh3_64_intdigest(b'u42', seed=xxhash.xxh3_64_intdigest(b'user_id'))
#include "model/hash.h"

#include <gtest/gtest.h>

namespace streamrec::model {
namespace {

TEST(HashTest, NameHashIsXxh3WithSeedZero) {
  EXPECT_EQ(HashName("user_id"), 0xd55549748fdc4fa1ull);
  EXPECT_EQ(HashName("item_id"), 0xa119b2561afab679ull);
  EXPECT_EQ(HashName("emb"), 0x68f33834bcc78b6eull);
}

TEST(HashTest, CategoryIsSeededByNameHash) {
  EXPECT_EQ(HashCategory(HashName("user_id"), "u42"), 0xee648f00d913b2e8ull);
  EXPECT_EQ(HashCategory(HashName("item_id"), "movie_1"), 0x976159d7b85cef12ull);
}

TEST(HashTest, VectorDimensionIsSeededByNameHashPlusOne) {
  EXPECT_EQ(HashVectorDim(HashName("emb"), 3), 0x9b0209ada597addeull);
}

TEST(HashTest, FieldIdIsTheLowBitsOfTheNameHashAndNeverZero) {
  EXPECT_EQ(FieldId(HashName("user_id")), 0x8fdc4fa1u);
  EXPECT_EQ(FieldId(0xabcdef0000000000ull), 1u);  // 0 means "unknown field"
  EXPECT_EQ(FieldId(0x0000000100000002ull), 2u);
}

TEST(HashTest, RowIsLowBits) {
  EXPECT_EQ(RowOf(0xee648f00d913b2e8ull, 20), 242408u);
  EXPECT_EQ(RowOf(0x976159d7b85cef12ull, 20), 847634u);
  EXPECT_EQ(RowOf(0x9b0209ada597addeull, 20), 503262u);
  EXPECT_EQ(RowOf(0xffffffffffffffffull, 4), 15u);
}

TEST(HashTest, SameValueInDifferentFieldsDiffers) {
  EXPECT_NE(HashCategory(HashName("a"), "x"), HashCategory(HashName("b"), "x"));
}

}  // namespace
}  // namespace streamrec::model
