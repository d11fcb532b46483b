// The memory check a server makes before it allocates a model's tables
// (server/memory_limit.h, model::ModelMemoryBytes).
#include "server/memory_limit.h"

#include "gtest/gtest.h"
#include "model/model_config.h"

namespace streamrec::server {
namespace {

using model::ModelConfig;
using model::ModelKind;

TEST(MemoryLimitTest, ModelMemoryCountsTablesSlotsScalesAndThePublishedCopy) {
  ModelConfig c;  // logistic, normalized FTRL (2 slots + the scale), 2^20 rows
  EXPECT_EQ(model::ModelMemoryBytes(c), uint64_t{5} << 22);  // 5 floats a row
  c.optimizer = model::DefaultOptimizerConfig(model::OptimizerKind::kSgd);
  EXPECT_EQ(model::ModelMemoryBytes(c), uint64_t{2} << 22);  // weight + its copy
  c.hash_bits = 30;
  EXPECT_EQ(model::ModelMemoryBytes(c), uint64_t{8} << 30);
  ModelConfig fm = model::DefaultModelConfig(ModelKind::kFm);  // k 8
  EXPECT_EQ(model::ModelMemoryBytes(fm), ((9 * 3 + 1) + 9) * (uint64_t{4} << 20));
  ModelConfig dnn = model::DefaultModelConfig(ModelKind::kDnn);
  dnn.dnn.fields = {"user"};
  // The layers count too: they are far smaller than 2^20 rows of 8 floats with Adam's
  // two slots and the copy (32 floats a row).
  const uint64_t rows = uint64_t{32} << 22;
  EXPECT_GT(model::ModelMemoryBytes(dnn), rows);
  EXPECT_LT(model::ModelMemoryBytes(dnn), rows + (uint64_t{4} << 20));
}

TEST(MemoryLimitTest, AModelLargerThanTheLimitIsRefusedNamingHashBits) {
  ModelConfig c;
  c.hash_bits = 30;
  const absl::Status s = CheckModelFits(c, {uint64_t{16} << 30, "/sys/fs/cgroup/memory.max"});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "model config: hash_bits 30 makes a logistic regression of about 20480 MiB "
            "(parameters, optimizer state and the published copy), more than the 16384 MiB "
            "this process may use (/sys/fs/cgroup/memory.max); lower hash_bits");
  EXPECT_TRUE(CheckModelFits(c, {uint64_t{32} << 30, "physical memory"}).ok());
  EXPECT_TRUE(CheckModelFits(c, {0, ""}).ok());  // unknown: not checked
  c.hash_bits = 20;
  EXPECT_TRUE(CheckModelFits(c, {uint64_t{16} << 30, "physical memory"}).ok());
}

TEST(MemoryLimitTest, TheLimitOfThisMachineIsKnown) {
  const MemoryLimit limit = ReadMemoryLimit();
  EXPECT_GT(limit.bytes, uint64_t{64} << 20);
  EXPECT_FALSE(limit.source.empty());
}

}  // namespace
}  // namespace streamrec::server
