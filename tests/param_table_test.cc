// Snapshot publication: copy-on-write chunks, readers unaffected by later training,
// cost in proportion to changed chunks.
#include "model/param_table.h"

#include <gtest/gtest.h>

#include <random>

namespace streamrec::model {
namespace {

TEST(ParamTableTest, FreezeCopiesValues) {
  ParamTable t(1000);
  t.Set(3, 1.5f);
  t.Set(999, -2.0f);
  FrozenTable f = t.Freeze(nullptr);
  ASSERT_EQ(f.size(), 1000u);
  EXPECT_EQ(f.Get(3), 1.5f);
  EXPECT_EQ(f.Get(999), -2.0f);
  EXPECT_EQ(f.Get(500), 0.0f);
  EXPECT_EQ(t.dirty_chunks(), 0u);
}

TEST(ParamTableTest, OldSnapshotUnaffectedByLaterTraining) {
  ParamTable t(1 << 16);
  t.Set(10, 1.0f);
  FrozenTable v1 = t.Freeze(nullptr);
  t.Set(10, 2.0f);
  t.Set(40000, 3.0f);
  FrozenTable v2 = t.Freeze(&v1);
  EXPECT_EQ(v1.Get(10), 1.0f);
  EXPECT_EQ(v1.Get(40000), 0.0f);
  EXPECT_EQ(v2.Get(10), 2.0f);
  EXPECT_EQ(v2.Get(40000), 3.0f);
  // Only the two touched chunks were copied; every other chunk is shared.
  size_t shared = 0;
  for (size_t c = 0; c < v2.num_chunks(); ++c) shared += v2.SharesChunkWith(v1, c);
  EXPECT_EQ(shared, v2.num_chunks() - 2);
  EXPECT_FALSE(v2.SharesChunkWith(v1, 10 / kChunkFloats));
  EXPECT_FALSE(v2.SharesChunkWith(v1, 40000 / kChunkFloats));
}

TEST(ParamTableTest, CostFollowsChangedChunksNotTableSize) {
  ParamTable t(1 << 20);
  FrozenTable v = t.Freeze(nullptr);
  // Few changed rows: few chunks copied.
  for (size_t i = 0; i < 5; ++i) t.Set(i * 100000, 1.0f);
  EXPECT_EQ(t.dirty_chunks(), 5u);
  FrozenTable few = t.Freeze(&v);
  // Many changed rows spread uniformly: at most one copy per chunk.
  std::mt19937 rng(1);
  for (int i = 0; i < 200000; ++i) t.Set(rng() % (1 << 20), 1.0f);
  EXPECT_LE(t.dirty_chunks(), few.num_chunks());
  EXPECT_GT(t.dirty_chunks(), few.num_chunks() * 9 / 10);
  FrozenTable many = t.Freeze(&few);
  EXPECT_EQ(t.dirty_chunks(), 0u);
  EXPECT_EQ(many.Get(100000), 1.0f);
}

TEST(ParamTableTest, NonzeroCount) {
  ParamTable t(10);
  t.Set(1, 1.0f);
  t.Set(2, 1.0f);
  t.Set(1, 0.0f);
  EXPECT_EQ(t.nonzero(), 1u);
}

}  // namespace
}  // namespace streamrec::model
