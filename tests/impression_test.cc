// The impression record (storage/impression.h) and where it lives: the encoding round
// trip, a damaged or truncated record refused as DataLoss (never a large allocation from
// a count it claims), the key layout's order, the rewarded bitmap, and the impressions
// column family: created only when asked for, always opened once it exists.
#include "storage/impression.h"

#include <gtest/gtest.h>

#include "storage/database.h"
#include "storage/encoding.h"
#include "storage/impression_store.h"
#include "tests/testing/temp_dir.h"

namespace streamrec::storage {
namespace {

Impression Sample() {
  Impression imp;
  imp.prediction_id = "abc-1";
  imp.time_unix_ms = 1767225600000;
  imp.expires_unix_ms = imp.time_unix_ms + 30000;
  imp.model_version = 7;
  imp.context = {{11, 1.0f, 3}, {12, 0.25f, 4}};
  imp.candidates = {{"a", 0.5, {{21, 1.0f, 5}}}, {"b", 0.75, {{22, 1.0f, 5}, {23, 2.0f, 6}}}};
  imp.shown = {1, 0};
  imp.propensities = {0.9, 1.0};
  return imp;
}

TEST(ImpressionTest, RoundTrip) {
  const Impression imp = Sample();
  absl::StatusOr<Impression> back = DecodeImpression(EncodeImpression(imp));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->prediction_id, imp.prediction_id);
  EXPECT_EQ(back->time_unix_ms, imp.time_unix_ms);
  EXPECT_EQ(back->expires_unix_ms, imp.expires_unix_ms);
  EXPECT_EQ(back->model_version, 7u);
  ASSERT_EQ(back->context.size(), 2u);
  EXPECT_EQ(back->context[1].hash, 12u);
  EXPECT_EQ(back->context[1].value, 0.25f);
  EXPECT_EQ(back->context[1].field, 4u);
  ASSERT_EQ(back->candidates.size(), 2u);
  EXPECT_EQ(back->candidates[1].id, "b");
  EXPECT_EQ(back->candidates[1].score, 0.75);
  EXPECT_EQ(back->candidates[1].features.size(), 2u);
  EXPECT_EQ(back->shown, imp.shown);
  EXPECT_EQ(back->propensities, imp.propensities);
}

TEST(ImpressionTest, DamageIsDataLossNeverACrash) {
  const std::string good = EncodeImpression(Sample());
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_EQ(DecodeImpression(good.substr(0, cut)).status().code(),
              absl::StatusCode::kDataLoss) << cut;
  }
  std::string flipped = good;
  flipped[10] ^= 1;
  EXPECT_EQ(DecodeImpression(flipped).status().code(), absl::StatusCode::kDataLoss);
  // A valid checksum over a record that claims 2^40 candidates: refused by the bytes left.
  std::string huge;
  PutU32(huge, 1);
  PutString(huge, "x");
  PutU64(huge, 1);
  PutU64(huge, 2);
  PutU64(huge, 3);
  PutVarint(huge, 0);
  PutVarint(huge, uint64_t{1} << 40);
  Seal(huge);
  EXPECT_EQ(DecodeImpression(huge).status().code(), absl::StatusCode::kDataLoss);
  // A shown index past the candidates.
  Impression bad = Sample();
  bad.shown = {5};
  bad.propensities = {1};
  EXPECT_EQ(DecodeImpression(EncodeImpression(bad)).status().code(), absl::StatusCode::kDataLoss);
}

TEST(ImpressionTest, ExpiryKeysSortByTimeAndParse) {
  EXPECT_LT(ExpiryKey(999, "zzz"), ExpiryKey(1000, "aaa"));
  EXPECT_LT(ExpiryKey(1000, "aaa"), ExpiryEnd(1001));
  EXPECT_GE(ExpiryKey(1001, ""), ExpiryEnd(1001));
  int64_t t;
  std::string id;
  ASSERT_TRUE(ParseExpiryKey(ExpiryKey(123456789, "p-1"), t, id));
  EXPECT_EQ(t, 123456789);
  EXPECT_EQ(id, "p-1");
  EXPECT_FALSE(ParseExpiryKey("p-1", t, id));
}

TEST(ImpressionTest, RewardedBitmap) {
  std::string bits;
  EXPECT_FALSE(IsRewarded(bits, 0));
  SetRewarded(bits, 9);
  EXPECT_TRUE(IsRewarded(bits, 9));
  EXPECT_FALSE(IsRewarded(bits, 8));
  EXPECT_FALSE(IsRewarded(bits, 900));
  SetRewarded(bits, 0);
  EXPECT_TRUE(IsRewarded(bits, 0) && IsRewarded(bits, 9));
}

TEST(ImpressionTest, FamilyOnlyWhenAskedAndThenAlwaysOpened) {
  testing::TempDir dir;
  DatabaseOptions plain;
  plain.dir = dir.path();
  {
    auto db = Database::Open(plain);
    ASSERT_TRUE(db.ok()) << db.status();
    EXPECT_FALSE((*db)->has_impressions());  // an older build can still open this dir
  }
  DatabaseOptions with = plain;
  with.impressions = true;
  {
    auto db = Database::Open(with);
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE((*db)->has_impressions());
    RocksImpressionStore store(db->get());
    ASSERT_TRUE(store.Write({{"pa", "1", false}, {"pb", "2", false}, {"q", "3", false}}, false).ok());
    std::vector<std::string> keys;
    ASSERT_TRUE(store.Scan("p", "q", 10, [&](std::string_view k, std::string_view) {
                       keys.emplace_back(k);
                       return true;
                     }).ok());
    EXPECT_EQ(keys, (std::vector<std::string>{"pa", "pb"}));
  }
  auto db = Database::Open(plain);  // not asked for, but it exists: opened
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE((*db)->has_impressions());
  auto v = (*db)->Get(Family::kImpressions, "pb");
  ASSERT_TRUE(v.ok() && v->has_value());
  EXPECT_EQ(**v, "2");
}

TEST(ImpressionTest, MemoryStoreScansInOrderWithinBounds) {
  MemoryImpressionStore store;
  ASSERT_TRUE(store.Write({{"t2", "", false}, {"t1", "", false}, {"u", "", false}}, false).ok());
  ASSERT_TRUE(store.Write({{"t2", "", true}}, false).ok());
  std::vector<std::string> keys;
  ASSERT_TRUE(store.Scan("t", "u", 10, [&](std::string_view k, std::string_view) {
                     keys.emplace_back(k);
                     return true;
                   }).ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"t1"}));
}

}  // namespace
}  // namespace streamrec::storage
