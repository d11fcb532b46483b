// Encoding: little-endian values round trip, the Reader is bounds-checked and stays
// failed, Seal/Unseal detect corruption and truncation, big-endian keys sort numerically.
#include "storage/encoding.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace streamrec::storage {
namespace {

TEST(EncodingTest, ValuesRoundTripInOrder) {
  std::string out;
  PutU32(out, 0xdeadbeefu);
  PutU64(out, 0x0123456789abcdefull);
  PutF32(out, -1.5f);
  PutF64(out, 3.0e300);
  PutString(out, "hello");
  PutString(out, std::string("a\0b", 3));  // embedded NUL
  PutString(out, "");
  const float floats[] = {0.25f, -0.0f, std::numeric_limits<float>::infinity()};
  PutFloats(out, floats, 3);
  PutF32(out, std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(out.size(), 4u + 8 + 4 + 8 + (4 + 5) + (4 + 3) + 4 + 12 + 4);

  Reader r(out);
  uint32_t u32 = 0;
  uint64_t u64 = 0;
  float f32 = 0;
  double f64 = 0;
  std::string s;
  ASSERT_TRUE(r.GetU32(u32));
  EXPECT_EQ(u32, 0xdeadbeefu);
  ASSERT_TRUE(r.GetU64(u64));
  EXPECT_EQ(u64, 0x0123456789abcdefull);
  ASSERT_TRUE(r.GetF32(f32));
  EXPECT_EQ(f32, -1.5f);
  ASSERT_TRUE(r.GetF64(f64));
  EXPECT_EQ(f64, 3.0e300);
  ASSERT_TRUE(r.GetString(s));
  EXPECT_EQ(s, "hello");
  ASSERT_TRUE(r.GetString(s));
  EXPECT_EQ(s, std::string("a\0b", 3));
  ASSERT_TRUE(r.GetString(s));
  EXPECT_EQ(s, "");
  float back[3] = {};
  ASSERT_TRUE(r.GetFloats(back, 3));
  EXPECT_EQ(back[0], 0.25f);
  EXPECT_TRUE(std::signbit(back[1]));
  EXPECT_EQ(back[2], std::numeric_limits<float>::infinity());
  EXPECT_FALSE(r.done());
  ASSERT_TRUE(r.GetF32(f32));
  EXPECT_TRUE(std::isnan(f32));
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.done());
}

TEST(EncodingTest, LittleEndianLayout) {
  std::string out;
  PutU32(out, 0x04030201u);
  PutU64(out, 0x0807060504030201ull);
  EXPECT_EQ(out, std::string("\x01\x02\x03\x04\x01\x02\x03\x04\x05\x06\x07\x08", 12));
  std::string str;
  PutString(str, "xy");
  EXPECT_EQ(str, std::string("\x02\x00\x00\x00xy", 6));
}

TEST(EncodingTest, ReaderFailsPastTheEndAndStaysFailed) {
  std::string out;
  PutU32(out, 7);
  out.push_back('\x01');  // one byte left over: too short for anything but a failure
  Reader r(out);
  uint32_t v = 0;
  ASSERT_TRUE(r.GetU32(v));
  EXPECT_EQ(v, 7u);
  EXPECT_FALSE(r.done());  // a byte is left
  uint32_t untouched = 42;
  EXPECT_FALSE(r.GetU32(untouched));
  EXPECT_EQ(untouched, 42u);  // a failed Get writes nothing
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.done());
  // Failed for good: even a read that would fit in the remaining byte fails.
  std::string s;
  float none[1];
  EXPECT_FALSE(r.GetFloats(none, 0));
  EXPECT_FALSE(r.GetString(s));
  EXPECT_FALSE(r.ok());
}

TEST(EncodingTest, EveryGetFailsOnEmptyInput) {
  uint32_t u32;
  uint64_t u64;
  float f32;
  double f64;
  std::string s;
  float floats[2];
  EXPECT_FALSE(Reader("").GetU32(u32));
  EXPECT_FALSE(Reader("").GetU64(u64));
  EXPECT_FALSE(Reader("").GetF32(f32));
  EXPECT_FALSE(Reader("").GetF64(f64));
  EXPECT_FALSE(Reader("").GetString(s));
  EXPECT_FALSE(Reader("").GetFloats(floats, 2));
  Reader empty("");
  EXPECT_TRUE(empty.done());  // nothing to read is a complete read
  EXPECT_TRUE(empty.GetFloats(floats, 0));
}

TEST(EncodingTest, StringLongerThanTheDataFails) {
  std::string out;
  PutU32(out, 10);  // claims 10 bytes
  out += "abc";     // has 3
  Reader r(out);
  std::string s = "keep";
  EXPECT_FALSE(r.GetString(s));
  EXPECT_EQ(s, "keep");
  EXPECT_FALSE(r.ok());

  // A length near 2^32 must not wrap around the bounds check.
  std::string huge;
  PutU32(huge, 0xffffffffu);
  huge += "abc";
  Reader h(huge);
  EXPECT_FALSE(h.GetString(s));
  EXPECT_FALSE(h.ok());
}

TEST(EncodingTest, FloatsPastTheEndFail) {
  std::string out;
  const float three[] = {1, 2, 3};
  PutFloats(out, three, 3);
  Reader r(out);
  float four[4] = {};
  EXPECT_FALSE(r.GetFloats(four, 4));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(four[0], 0.0f);  // nothing was copied
}

TEST(EncodingTest, SealUnsealRoundTrip) {
  std::string data = "payload bytes";
  Seal(data);
  EXPECT_EQ(data.size(), 13u + 8);
  std::string_view payload;
  ASSERT_TRUE(Unseal(data, payload));
  EXPECT_EQ(payload, "payload bytes");

  std::string empty;
  Seal(empty);
  ASSERT_EQ(empty.size(), 8u);
  ASSERT_TRUE(Unseal(empty, payload));
  EXPECT_EQ(payload, "");
}

TEST(EncodingTest, UnsealDetectsEveryFlippedBit) {
  std::string sealed;
  PutU64(sealed, 12345);
  PutString(sealed, "event id");
  Seal(sealed);
  std::string_view payload;
  ASSERT_TRUE(Unseal(sealed, payload));
  // Every single-bit flip, in the payload or in the checksum itself, is detected.
  for (size_t byte = 0; byte < sealed.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string corrupt = sealed;
      corrupt[byte] = static_cast<char>(corrupt[byte] ^ (1 << bit));
      EXPECT_FALSE(Unseal(corrupt, payload)) << "byte " << byte << " bit " << bit;
    }
  }
}

TEST(EncodingTest, UnsealDetectsTruncationAndExtension) {
  std::string sealed = "some record";
  Seal(sealed);
  std::string_view payload;
  for (size_t n = 0; n < sealed.size(); ++n) {
    EXPECT_FALSE(Unseal(std::string_view(sealed).substr(0, n), payload)) << "length " << n;
  }
  EXPECT_FALSE(Unseal(sealed + '\0', payload));
}

TEST(EncodingTest, ChecksumIsXxh3AndContentSensitive) {
  // XXH3-64 of the empty input (xxHash 0.8 reference value).
  EXPECT_EQ(Checksum(""), 0x2d06800538d394c2ull);
  EXPECT_NE(Checksum("a"), Checksum("b"));
  EXPECT_EQ(Checksum("abc"), Checksum(std::string("abc")));
}

TEST(EncodingTest, BigEndianKeysRoundTripAndSortNumerically) {
  const std::vector<uint64_t> values = {0,      1,          255,        256,
                                        65535,  65536,      1ull << 32, (1ull << 32) + 1,
                                        1ull << 63, ~0ull - 1, ~0ull};
  std::vector<std::string> keys;
  for (uint64_t v : values) {
    std::string k = BigEndianKey(v);
    ASSERT_EQ(k.size(), 8u);
    EXPECT_EQ(DecodeBigEndianKey(k), v);
    keys.push_back(k);
  }
  EXPECT_EQ(BigEndianKey(0x0102030405060708ull), "\x01\x02\x03\x04\x05\x06\x07\x08");
  // Byte-wise (RocksDB's default comparator, std::string's operator<) equals numeric.
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  for (size_t i = 1; i < keys.size(); ++i) EXPECT_LT(keys[i - 1], keys[i]);
  // Little-endian would not sort: 256 encodes below 1 in its first byte.
  std::string le1, le256;
  PutU64(le1, 1);
  PutU64(le256, 256);
  EXPECT_GT(le1, le256);
}

TEST(EncodingTest, DecodeBigEndianKeyReadsOnlyTheFirstEightBytes) {
  // Keys with a suffix (chunk keys carry more after the number) decode their prefix.
  EXPECT_EQ(DecodeBigEndianKey(BigEndianKey(77) + "suffix"), 77u);
  // A shorter key decodes what is there.
  EXPECT_EQ(DecodeBigEndianKey(std::string("\x01\x02", 2)), 0x0102u);
  EXPECT_EQ(DecodeBigEndianKey(""), 0u);
}

}  // namespace
}  // namespace streamrec::storage
