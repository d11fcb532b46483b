// The snapshot codec on its own (storage/snapshot_codec.h), shared by manifests and
// export files: a manifest round trips exactly, every truncation and flipped byte is
// DataLoss, another format is refused naming both, lying counts and non-finite metrics
// are refused, and chunk keys order by table, chunk and version.
#include "storage/snapshot_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "storage/encoding.h"

namespace streamrec::storage {
namespace {

Manifest Sample() {
  Manifest m;
  m.meta = {.version = 12, .time_unix_ms = 1700000000123, .last_seq = 400,
            .events_applied = 399, .updates_skipped = 1, .optimizer_step = 77};
  m.config = "config bytes";
  m.metrics.overall.events = 399;
  m.metrics.overall.loss = 0.5;
  m.metrics.positive_bins = {1, 2, 3};
  m.metrics.negative_bins = {4, 5, 6};
  m.metrics.window = {{0.25f, 1.0f, 1.0f}, {0.75f, 0.0f, 2.0f}};
  m.tables = {{"weights", 600, {0, 12, 3}}, {"optimizer0", 600, {12, 12, 0}}};
  return m;
}

TEST(SnapshotCodecTest, ManifestRoundTripsExactly) {
  const Manifest in = Sample();
  absl::StatusOr<Manifest> out = DecodeManifest(EncodeManifest(in));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->meta.version, 12u);
  EXPECT_EQ(out->meta.time_unix_ms, 1700000000123);
  EXPECT_EQ(out->meta.last_seq, 400u);
  EXPECT_EQ(out->meta.events_applied, 399u);
  EXPECT_EQ(out->meta.updates_skipped, 1u);
  EXPECT_EQ(out->meta.optimizer_step, 77u);
  EXPECT_EQ(out->config, in.config);
  EXPECT_EQ(out->metrics.overall.events, 399u);
  EXPECT_EQ(out->metrics.overall.loss, 0.5);
  EXPECT_EQ(out->metrics.positive_bins, in.metrics.positive_bins);
  EXPECT_EQ(out->metrics.negative_bins, in.metrics.negative_bins);
  ASSERT_EQ(out->metrics.window.size(), 2u);
  EXPECT_EQ(out->metrics.window[1].w, 2.0f);
  ASSERT_EQ(out->tables.size(), 2u);
  EXPECT_EQ(out->tables[1].name, "optimizer0");
  EXPECT_EQ(out->tables[0].chunk_versions, (std::vector<uint64_t>{0, 12, 3}));
}

TEST(SnapshotCodecTest, EveryTruncationAndFlippedByteIsDataLoss) {
  const std::string sealed = EncodeManifest(Sample());
  for (size_t n = 0; n < sealed.size(); ++n) {
    EXPECT_EQ(DecodeManifest(sealed.substr(0, n)).status().code(), absl::StatusCode::kDataLoss)
        << n;
  }
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string flipped = sealed;
    flipped[i] ^= 0x10;
    EXPECT_EQ(DecodeManifest(flipped).status().code(), absl::StatusCode::kDataLoss) << i;
  }
}

// Re-seals `m`'s encoding with its first word (the format) replaced.
std::string WithFormat(const Manifest& m, uint32_t format) {
  std::string sealed = EncodeManifest(m);
  std::string payload = sealed.substr(0, sealed.size() - 8);
  std::string word;
  PutU32(word, format);
  payload.replace(0, 4, word);
  Seal(payload);
  return payload;
}

TEST(SnapshotCodecTest, AnotherFormatIsRefusedNamingBoth) {
  const absl::Status s = DecodeManifest(WithFormat(Sample(), 2)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "the manifest has format 2; this build reads manifest format 1");
}

TEST(SnapshotCodecTest, NonFiniteMetricsAndLyingCountsAreRefused) {
  Manifest nan = Sample();
  nan.metrics.overall.loss = std::nan("");
  EXPECT_EQ(DecodeManifest(EncodeManifest(nan)).status().code(), absl::StatusCode::kDataLoss);
  // A count the bytes cannot hold: the table count word claims 2^31 tables.
  std::string sealed = EncodeManifest(Sample());
  std::string payload = sealed.substr(0, sealed.size() - 8);
  const std::string weights = "weights";
  const size_t name_at = payload.find(weights);
  ASSERT_NE(name_at, std::string::npos);
  // The table count is the u32 just before the first table's name and its length word.
  ASSERT_GE(name_at, 8u);
  Reader count(std::string_view(payload).substr(name_at - 8, 8));
  uint32_t tables = 0, name_length = 0;
  ASSERT_TRUE(count.GetU32(tables) && count.GetU32(name_length));
  ASSERT_EQ(tables, 2u);
  ASSERT_EQ(name_length, weights.size());
  std::string word;
  PutU32(word, 1u << 31);
  payload.replace(name_at - 8, 4, word);
  Seal(payload);
  EXPECT_EQ(DecodeManifest(payload).status().code(), absl::StatusCode::kDataLoss);
}

TEST(SnapshotCodecTest, ChunkKeysOrderByTableChunkAndVersion) {
  EXPECT_LT(ChunkKey("a", 0, 9), ChunkKey("b", 0, 1));
  EXPECT_LT(ChunkKey("a", 1, 9), ChunkKey("a", 2, 1));
  EXPECT_LT(ChunkKey("a", 1, 1), ChunkKey("a", 1, 2));
  EXPECT_EQ(ChunkKeyVersion(ChunkKey("weights", 7, 123456789)), 123456789u);
  EXPECT_EQ(ChunkKeyVersion(ChunkKey("w", 0, kStagingBit | 5)), kStagingBit | 5);
  EXPECT_EQ(ChunkCount(0), 0u);
  EXPECT_EQ(ChunkCount(1), 1u);
  EXPECT_EQ(ChunkCount(model::kChunkFloats), 1u);
  EXPECT_EQ(ChunkCount(model::kChunkFloats + 1), 2u);
}

}  // namespace
}  // namespace streamrec::storage
