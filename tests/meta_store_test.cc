// MetaStore: the stored config, and the vector-field registry kept one key per field
// (registering a field writes one small key, never the whole registry), with the
// single-key registry of earlier versions migrated.
#include "storage/meta_store.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "storage/config_codec.h"
#include "storage/encoding.h"
#include "tests/testing/temp_dir.h"

namespace streamrec::storage {
namespace {

TEST(MetaStoreTest, ConfigRoundTrip) {
  testing::TempDir dir;
  auto db = Database::Open(dir.path());
  MetaStore meta(db->get());
  auto none = meta.LoadEncodedConfig();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  model::ModelConfig c;
  c.hash_bits = 13;
  ASSERT_TRUE(meta.SaveConfig(c).ok());
  auto stored = meta.LoadEncodedConfig();
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ(DecodeConfig(**stored)->hash_bits, 13u);
}

TEST(MetaStoreTest, VectorFieldsAreOneKeyEachAndAddedIncrementally) {
  testing::TempDir dir;
  auto db = Database::Open(dir.path());
  MetaStore meta(db->get());
  for (int round = 0; round < 3; ++round) {
    rocksdb::WriteBatch batch;
    meta.AddVectorDims({{"f" + std::to_string(round), 2u + round}}, batch);
    EXPECT_EQ(batch.Count(), 1u);  // one small key per new field
    EXPECT_LT(batch.GetDataSize(), 64u);
    ASSERT_TRUE((*db)->Write(batch, false).ok());
  }
  auto all = meta.LoadVectorDims();
  ASSERT_TRUE(all.ok()) << all.status();
  std::sort(all->begin(), all->end());
  EXPECT_EQ(*all, (VectorDimList{{"f0", 2}, {"f1", 3}, {"f2", 4}}));
}

TEST(MetaStoreTest, LegacySingleKeyRegistryIsMigrated) {
  testing::TempDir dir;
  auto db = Database::Open(dir.path());
  std::string legacy;
  PutU32(legacy, 2);
  PutString(legacy, "emb");
  PutU32(legacy, 8);
  PutString(legacy, "title");
  PutU32(legacy, 16);
  rocksdb::WriteBatch batch;
  (*db)->Put(batch, Family::kMeta, "vector_dims", legacy);
  ASSERT_TRUE((*db)->Write(batch, false).ok());
  MetaStore meta(db->get());
  auto all = meta.LoadVectorDims();
  ASSERT_TRUE(all.ok()) << all.status();
  std::sort(all->begin(), all->end());
  EXPECT_EQ(*all, (VectorDimList{{"emb", 8}, {"title", 16}}));
  auto gone = (*db)->Get(Family::kMeta, "vector_dims");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
  auto again = meta.LoadVectorDims();  // from the per-field keys now
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->size(), 2u);
}

TEST(MetaStoreTest, CorruptRegistryIsDataLossNotAGuess) {
  testing::TempDir dir;
  auto db = Database::Open(dir.path());
  std::string legacy;
  PutU32(legacy, 1u << 30);  // claims a billion fields in four bytes
  rocksdb::WriteBatch batch;
  (*db)->Put(batch, Family::kMeta, "vector_dims", legacy);
  (*db)->Put(batch, Family::kMeta, "dim/x", "abc");  // not a u32
  ASSERT_TRUE((*db)->Write(batch, false).ok());
  MetaStore meta(db->get());
  EXPECT_EQ(meta.LoadVectorDims().status().code(), absl::StatusCode::kDataLoss);
}

// Hostile pass: a legacy registry with a dimension 0, or one that contradicts a per-field
// record, was migrated (overwriting the record) before being refused on the next start.
// Now it is refused before anything is written, naming the field.
TEST(MetaStoreTest, LegacyRegistryIsValidatedBeforeAnythingIsWritten) {
  struct Case {
    uint32_t legacy_dim;
    const char* message;
  };
  for (const Case& c : {Case{0, "the vector dimension registry is corrupt (field emb has "
                                "dimension 0)"},
                        Case{5, "the vector dimension registry says field emb has dimension "
                                "5 but record dim/emb says 3"}}) {
    testing::TempDir dir;
    auto db = Database::Open(dir.path());
    std::string legacy;
    PutU32(legacy, 1);
    PutString(legacy, "emb");
    PutU32(legacy, c.legacy_dim);
    std::string three;
    PutU32(three, 3);
    rocksdb::WriteBatch batch;
    (*db)->Put(batch, Family::kMeta, "vector_dims", legacy);
    (*db)->Put(batch, Family::kMeta, "dim/emb", three);
    ASSERT_TRUE((*db)->Write(batch, false).ok());
    MetaStore meta(db->get());
    for (int start = 0; start < 2; ++start) {  // refused the same way every time
      absl::Status s = meta.LoadVectorDims().status();
      EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
      EXPECT_EQ(s.message(), c.message);
    }
    EXPECT_EQ(**(*db)->Get(Family::kMeta, "dim/emb"), three);
    EXPECT_EQ(**(*db)->Get(Family::kMeta, "vector_dims"), legacy);
  }
}

}  // namespace
}  // namespace streamrec::storage
