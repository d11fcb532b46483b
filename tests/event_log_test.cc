// EventLog on a real RocksDB in a temporary directory.
#include "storage/event_log.h"

#include <gtest/gtest.h>

#include "tests/testing/temp_dir.h"

namespace streamrec::storage {
namespace {

model::Example Ex(float label, uint64_t hash) {
  model::Example e;
  e.features = {{hash, 1.0f}, {hash + 1, -2.5f}};
  e.label = label;
  e.weight = 0.5f;
  e.time_unix_ms = 1700000000000 + static_cast<int64_t>(hash);
  return e;
}

TEST(EventLogTest, AppendReplayRoundTripInOrder) {
  testing::TempDir dir;
  auto db = Database::Open(dir.path());
  ASSERT_TRUE(db.ok()) << db.status();
  EventLog log(db->get());
  std::vector<model::Example> a = {Ex(1, 10), Ex(0, 20)}, b = {Ex(1, 30)};
  std::string id1 = "e1", id2 = "", id3 = "e3";
  ASSERT_TRUE(log.Append(1, {{&a[0], &id1}, {&a[1], &id2}}, false).ok());
  ASSERT_TRUE(log.Append(3, {{&b[0], &id3}}, true).ok());
  EXPECT_EQ(*log.LastSeq(), 3u);
  std::vector<uint64_t> seqs;
  std::vector<std::string> ids;
  ASSERT_TRUE(log.Replay(0, [&](uint64_t seq, model::Example& ex, std::string& id) {
    seqs.push_back(seq);
    ids.push_back(id);
    if (seq == 2) {
      EXPECT_EQ(ex.label, 0.0f);
      EXPECT_EQ(ex.weight, 0.5f);
      EXPECT_EQ(ex.time_unix_ms, 1700000000020);
      ASSERT_EQ(ex.features.size(), 2u);
      EXPECT_EQ(ex.features[1].hash, 21u);
      EXPECT_EQ(ex.features[1].value, -2.5f);
    }
  }).ok());
  EXPECT_EQ(seqs, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(ids, (std::vector<std::string>{"e1", "", "e3"}));
  // Replay after a sequence number inside a record starts in that record.
  seqs.clear();
  ASSERT_TRUE(log.Replay(1, [&](uint64_t seq, model::Example&, std::string&) {
    seqs.push_back(seq);
  }).ok());
  EXPECT_EQ(seqs, (std::vector<uint64_t>{2, 3}));
}

TEST(EventLogTest, SurvivesReopenAndTruncates) {
  testing::TempDir dir;
  std::vector<model::Example> ex = {Ex(1, 1)};
  std::string id = "x";
  {
    auto db = Database::Open(dir.path());
    EventLog log(db->get());
    for (uint64_t s = 1; s <= 100; ++s) ASSERT_TRUE(log.Append(s, {{&ex[0], &id}}, false).ok());
  }
  auto db = Database::Open(dir.path());
  EventLog log(db->get());
  EXPECT_EQ(*log.LastSeq(), 100u);
  ASSERT_TRUE(log.TruncateBefore(61).ok());
  uint64_t first = 0, count = 0;
  ASSERT_TRUE(log.Replay(0, [&](uint64_t seq, model::Example&, std::string&) {
    if (count++ == 0) first = seq;
  }).ok());
  EXPECT_EQ(first, 61u);
  EXPECT_EQ(count, 40u);
  EXPECT_GT(log.ApproximateBytes(), 0u);
}

TEST(EventLogTest, CorruptRecordIsDataLoss) {
  testing::TempDir dir;
  auto db = Database::Open(dir.path());
  rocksdb::WriteBatch batch;
  (*db)->Put(batch, Family::kEvents, std::string(7, '\0') + '\x01', "garbage");
  ASSERT_TRUE((*db)->Write(batch, false).ok());
  EventLog log(db->get());
  absl::Status s = log.Replay(0, [](uint64_t, model::Example&, std::string&) {});
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace streamrec::storage
