// VectorDims: first registration fixes a field's dimension, a conflicting request
// registers nothing, generation counts new fields; concurrent registrations agree.
// gRPC-free: also runs under TSan.
#include "server/vector_dims.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace streamrec::server {
namespace {

using Dims = std::vector<std::pair<std::string, uint32_t>>;

Dims Sorted(Dims d) {
  std::sort(d.begin(), d.end());
  return d;
}

TEST(VectorDimsTest, EmptyAtFirst) {
  VectorDims d;
  EXPECT_EQ(d.Find("emb"), std::nullopt);
  EXPECT_TRUE(d.All().empty());
  EXPECT_EQ(d.generation(), 0u);
  ASSERT_TRUE(d.Register({}).ok());
  EXPECT_EQ(d.generation(), 0u);
}

TEST(VectorDimsTest, RegisterThenFind) {
  VectorDims d;
  ASSERT_TRUE(d.Register({{"emb", 8}, {"pos", 3}}).ok());
  EXPECT_EQ(d.Find("emb"), 8u);
  EXPECT_EQ(d.Find("pos"), 3u);
  EXPECT_EQ(d.Find("other"), std::nullopt);
  EXPECT_EQ(Sorted(d.All()), (Dims{{"emb", 8}, {"pos", 3}}));
  EXPECT_EQ(d.generation(), 2u);
}

TEST(VectorDimsTest, SameDimensionAgainChangesNothing) {
  VectorDims d;
  ASSERT_TRUE(d.Register({{"emb", 8}}).ok());
  ASSERT_TRUE(d.Register({{"emb", 8}}).ok());
  ASSERT_TRUE(d.Register({{"emb", 8}, {"emb", 8}}).ok());
  EXPECT_EQ(d.generation(), 1u);  // nothing new: no save needed
  EXPECT_EQ(d.All(), (Dims{{"emb", 8}}));
}

TEST(VectorDimsTest, ConflictRegistersNothing) {
  VectorDims d;
  ASSERT_TRUE(d.Register({{"emb", 8}}).ok());
  // "new" would be fine alone, but "emb" conflicts: all or nothing.
  absl::Status s = d.Register({{"new", 4}, {"emb", 16}});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("\"emb\" has dimension 16; the model uses 8"),
            absl::string_view::npos) << s;
  EXPECT_EQ(d.Find("new"), std::nullopt);
  EXPECT_EQ(d.Find("emb"), 8u);
  EXPECT_EQ(d.generation(), 1u);
  EXPECT_EQ(d.All(), (Dims{{"emb", 8}}));
}

TEST(VectorDimsTest, GenerationCountsNewFieldsOnly) {
  VectorDims d;
  ASSERT_TRUE(d.Register({{"a", 1}}).ok());
  const uint64_t g1 = d.generation();
  ASSERT_TRUE(d.Register({{"a", 1}, {"b", 2}, {"c", 3}}).ok());
  EXPECT_EQ(d.generation(), g1 + 2);
  EXPECT_FALSE(d.Register({{"d", 4}, {"c", 4}}).ok());
  EXPECT_EQ(d.generation(), g1 + 2);
}

TEST(VectorDimsTest, ConcurrentRegistrationsAgreeOnOneDimension) {
  // Threads race to register the same fields with their own dimensions: each field ends
  // with exactly one dimension, every thread either got it registered or was told the
  // winner's, and generation counts each field once.
  VectorDims d;
  constexpr int kThreads = 4, kFields = 200;
  std::vector<std::vector<bool>> won(kThreads, std::vector<bool>(kFields));
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      for (int f = 0; f < kFields; ++f) {
        const std::string field = "f" + std::to_string(f);
        const uint32_t dim = static_cast<uint32_t>(t + 1);
        won[t][f] = d.Register({{field, dim}}).ok();
        std::optional<uint32_t> now = d.Find(field);
        if (!now.has_value() || (won[t][f] && *now != dim)) ADD_FAILURE() << field;
      }
    });
  }
  go = true;
  for (auto& th : threads) th.join();
  EXPECT_EQ(d.generation(), uint64_t{kFields});
  ASSERT_EQ(d.All().size(), size_t{kFields});
  for (int f = 0; f < kFields; ++f) {
    const uint32_t dim = *d.Find("f" + std::to_string(f));
    int winners = 0;
    for (int t = 0; t < kThreads; ++t) winners += won[t][f];
    EXPECT_EQ(winners, 1) << f;  // the dimensions all differ, so only one fits
    EXPECT_TRUE(won[dim - 1][f]) << f;
  }
}

}  // namespace
}  // namespace streamrec::server
