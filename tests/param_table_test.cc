// Snapshot publication: copy-on-write chunks, readers unaffected by later training,
// cost in proportion to changed chunks.
#include "model/param_table.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

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

TEST(ParamTableTest, FreezeWithNoChangesSharesEverything) {
  ParamTable t(3 * kChunkFloats * kPageChunks);
  t.Set(1, 1.0f);
  FrozenTable v1 = t.Freeze(nullptr);
  FrozenTable v2 = t.Freeze(&v1);
  ASSERT_EQ(v2.num_chunks(), v1.num_chunks());
  for (size_t c = 0; c < v2.num_chunks(); ++c) EXPECT_TRUE(v2.SharesChunkWith(v1, c)) << c;
  EXPECT_EQ(v2.Get(1), 1.0f);
}

TEST(ParamTableTest, UnchangedChunksStaySharedAcrossManyFreezes) {
  ParamTable t(4 * kChunkFloats);
  FrozenTable v1 = t.Freeze(nullptr);
  t.Set(0, 1.0f);  // chunk 0
  FrozenTable v2 = t.Freeze(&v1);
  t.Set(kChunkFloats, 2.0f);  // chunk 1
  FrozenTable v3 = t.Freeze(&v2);
  // Chunks 2 and 3 never changed: v3 holds v1's objects.
  EXPECT_TRUE(v3.SharesChunkWith(v1, 2));
  EXPECT_TRUE(v3.SharesChunkWith(v1, 3));
  // Chunk 0 changed before v2 and not since: v3 shares v2's copy, not v1's.
  EXPECT_TRUE(v3.SharesChunkWith(v2, 0));
  EXPECT_FALSE(v3.SharesChunkWith(v1, 0));
  EXPECT_FALSE(v3.SharesChunkWith(v2, 1));
  EXPECT_EQ(v1.Get(0), 0.0f);
  EXPECT_EQ(v2.Get(kChunkFloats), 0.0f);
  EXPECT_EQ(v3.Get(0), 1.0f);
  EXPECT_EQ(v3.Get(kChunkFloats), 2.0f);
}

TEST(ParamTableTest, NullptrOrAnotherSizeGivesAFullCopy) {
  ParamTable t(2 * kChunkFloats * kPageChunks);
  // A value in every chunk, so none is the shared zero chunk.
  for (size_t c = 0; c < t.num_chunks(); ++c) t.Set(c * kChunkFloats + 7, 0.5f);
  FrozenTable v1 = t.Freeze(nullptr);
  t.Set(5, 1.0f);
  FrozenTable full = t.Freeze(nullptr);  // even with a previous version around
  for (size_t c = 0; c < full.num_chunks(); ++c) EXPECT_FALSE(full.SharesChunkWith(v1, c)) << c;
  EXPECT_EQ(full.Get(5), 1.0f);

  // A previous table of another size cannot be shared with: a full copy as well.
  ParamTable other(kChunkFloats);
  other.Set(0, 3.0f);
  FrozenTable small = other.Freeze(nullptr);
  t.Set(6, 2.0f);
  FrozenTable v3 = t.Freeze(&small);
  ASSERT_EQ(v3.size(), t.size());
  EXPECT_FALSE(v3.SharesChunkWith(small, 0));
  EXPECT_EQ(v3.Get(5), 1.0f);
  EXPECT_EQ(v3.Get(6), 2.0f);
  EXPECT_EQ(v3.Get(t.size() - 1), 0.0f);
  EXPECT_EQ(v3.Get(7), 0.5f);
}

TEST(ParamTableTest, ShortLastChunk) {
  constexpr size_t kSize = 3 * kChunkFloats + 40;
  ParamTable t(kSize);
  ASSERT_EQ(t.num_chunks(), 4u);
  EXPECT_EQ(t.ChunkSize(0), kChunkFloats);
  EXPECT_EQ(t.ChunkSize(3), 40u);
  EXPECT_EQ(t.ChunkData(3), t.values().data() + 3 * kChunkFloats);
  FrozenTable v1 = t.Freeze(nullptr);
  // Overwrite the short chunk whole: exactly its 40 floats.
  std::vector<float> last(40);
  for (size_t k = 0; k < last.size(); ++k) last[k] = static_cast<float>(k + 1);
  t.SetChunk(3, last.data(), last.size());
  EXPECT_EQ(t.dirty_chunks(), 1u);
  EXPECT_EQ(t.nonzero(), 40u);
  FrozenTable v2 = t.Freeze(&v1);
  ASSERT_EQ(v2.size(), kSize);
  for (size_t k = 0; k < 40; ++k) EXPECT_EQ(v2.Get(3 * kChunkFloats + k), k + 1.0f) << k;
  EXPECT_EQ(v1.Get(kSize - 1), 0.0f);
  EXPECT_FALSE(v2.SharesChunkWith(v1, 3));
  for (size_t c = 0; c < 3; ++c) EXPECT_TRUE(v2.SharesChunkWith(v1, c)) << c;
  EXPECT_EQ(t.TakePersistDirty(), (std::vector<uint32_t>{3}));
}

TEST(ParamTableTest, FreezeAndPersistTrackChangesSeparately) {
  ParamTable t(8 * kChunkFloats);
  t.Set(5 * kChunkFloats, 1.0f);
  t.Set(1 * kChunkFloats + 3, 1.0f);
  t.Set(5 * kChunkFloats + 1, 1.0f);  // same chunk again: listed once
  EXPECT_EQ(t.dirty_chunks(), 2u);
  FrozenTable v1 = t.Freeze(nullptr);
  EXPECT_EQ(t.dirty_chunks(), 0u);
  // Freezing did not forget what the next persist must write; sorted, each once.
  EXPECT_EQ(t.TakePersistDirty(), (std::vector<uint32_t>{1, 5}));
  EXPECT_TRUE(t.TakePersistDirty().empty());
  // Persisting did not forget what the next publication must copy.
  t.Set(7 * kChunkFloats, 2.0f);
  EXPECT_EQ(t.TakePersistDirty(), (std::vector<uint32_t>{7}));
  EXPECT_EQ(t.dirty_chunks(), 1u);
  FrozenTable v2 = t.Freeze(&v1);
  EXPECT_FALSE(v2.SharesChunkWith(v1, 7));
  EXPECT_EQ(v2.Get(7 * kChunkFloats), 2.0f);
  // A failed persist marks chunks again, without duplicates.
  t.MarkPersistDirty(6);
  t.MarkPersistDirty(2);
  t.MarkPersistDirty(6);
  EXPECT_EQ(t.TakePersistDirty(), (std::vector<uint32_t>{2, 6}));
  EXPECT_EQ(t.dirty_chunks(), 0u);  // marking for persistence does not republish
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
