// FrozenTable: element addressing across chunk and page boundaries, chunk counts with a
// short last chunk, and SharesChunkWith (which the sharing tests rely on) telling
// shared from copied chunks. Tables are built by ParamTable::Freeze, their only maker.
#include "model/frozen_table.h"

#include <gtest/gtest.h>

#include <cmath>

#include "model/param_table.h"

namespace streamrec::model {
namespace {

constexpr size_t kPageFloats = kChunkFloats * kPageChunks;

TEST(FrozenTableTest, DefaultIsEmpty) {
  FrozenTable t;
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.num_chunks(), 0u);
  EXPECT_FALSE(t.SharesChunkWith(t, 0));  // no chunk 0 to share
}

TEST(FrozenTableTest, NumChunksRoundsUp) {
  for (const auto& [size, chunks] : std::vector<std::pair<size_t, size_t>>{
           {1, 1}, {kChunkFloats - 1, 1}, {kChunkFloats, 1}, {kChunkFloats + 1, 2},
           {kPageFloats, kPageChunks}, {kPageFloats + 1, kPageChunks + 1}}) {
    ParamTable p(size);
    EXPECT_EQ(p.Freeze(nullptr).num_chunks(), chunks) << size;
    EXPECT_EQ(p.num_chunks(), chunks) << size;
  }
}

TEST(FrozenTableTest, GetAddressesEveryElementAcrossChunksAndPages) {
  // Two full pages and a partial third whose last chunk is short.
  const size_t size = 2 * kPageFloats + 3 * kChunkFloats + 17;
  ParamTable p(size);
  for (size_t i = 0; i < size; ++i) p.Set(i, static_cast<float>(i));
  FrozenTable t = p.Freeze(nullptr);
  ASSERT_EQ(t.size(), size);
  ASSERT_EQ(t.num_chunks(), 2 * kPageChunks + 4);
  for (size_t i = 0; i < size; ++i) {
    ASSERT_EQ(t.Get(i), static_cast<float>(i)) << i;
  }
}

// Fill sets a value in every chunk, so no chunk is the shared zero chunk.
void Fill(ParamTable& p) {
  for (size_t c = 0; c < p.num_chunks(); ++c) p.Set(c * kChunkFloats, 1.0f + c);
}

TEST(FrozenTableTest, SharesChunkWithItselfAndNotWithAFullCopy) {
  ParamTable p(kPageFloats + 10);
  Fill(p);
  FrozenTable a = p.Freeze(nullptr);
  FrozenTable b = p.Freeze(nullptr);  // a full copy: nothing shared
  const FrozenTable& same = a;
  for (size_t c = 0; c < a.num_chunks(); ++c) {
    EXPECT_TRUE(a.SharesChunkWith(same, c)) << c;
    EXPECT_FALSE(a.SharesChunkWith(b, c)) << c;
  }
  // A copy of the FrozenTable object shares everything (it is the same version).
  FrozenTable copy = a;
  for (size_t c = 0; c < a.num_chunks(); ++c) EXPECT_TRUE(copy.SharesChunkWith(a, c)) << c;
}

// All-zero chunks (bitwise) are one shared chunk: an untouched region of a sparse model
// costs a pointer per chunk in each published version.
TEST(FrozenTableTest, ZeroChunksAreSharedEvenByFullCopies) {
  ParamTable p(3 * kChunkFloats);
  p.Set(kChunkFloats + 1, 2.0f);
  FrozenTable a = p.Freeze(nullptr);
  FrozenTable b = p.Freeze(nullptr);
  EXPECT_TRUE(a.SharesChunkWith(b, 0));
  EXPECT_FALSE(a.SharesChunkWith(b, 1));  // holds a value: copied
  EXPECT_TRUE(a.SharesChunkWith(b, 2));
  EXPECT_TRUE(a.SharesChunkWith(a, 0) && a.SharesChunkWith(a, 2));
  p.Set(kChunkFloats + 1, -0.0f);  // not bitwise zero: a chunk of its own
  FrozenTable c = p.Freeze(nullptr);
  EXPECT_FALSE(c.SharesChunkWith(a, 1));
  EXPECT_TRUE(std::signbit(c.Get(kChunkFloats + 1)));
}

TEST(FrozenTableTest, SharesChunkWithIsFalseOutsideEitherTable) {
  ParamTable small(kChunkFloats);  // one page
  ParamTable big(2 * kPageFloats);  // two pages
  Fill(small);
  Fill(big);
  FrozenTable s = small.Freeze(nullptr);
  FrozenTable b = big.Freeze(nullptr);
  EXPECT_FALSE(s.SharesChunkWith(b, kPageChunks));  // page 1 exists only in b
  EXPECT_FALSE(b.SharesChunkWith(s, kPageChunks));
  EXPECT_FALSE(b.SharesChunkWith(b, 2 * kPageChunks));  // past both
  // Past the last chunk but inside the last page: the empty slots are not a shared chunk.
  FrozenTable s2 = small.Freeze(&s);
  EXPECT_TRUE(s2.SharesChunkWith(s, 0));
  EXPECT_FALSE(s2.SharesChunkWith(s, 1));
  EXPECT_FALSE(s.SharesChunkWith(s, kPageChunks - 1));
}

}  // namespace
}  // namespace streamrec::model
