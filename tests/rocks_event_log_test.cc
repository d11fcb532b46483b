// RocksEventLog on a real RocksDB in a temporary directory: the log numbers what it
// appends, replays in order, survives a reopen, truncates, writes new vector fields in the
// same write, reads the records of the earlier format, and refuses an unknown one by
// name. Also UnloggedEventLog (--durability=none).
#include "storage/rocks_event_log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "storage/encoding.h"
#include "storage/log_record.h"
#include "storage/unlogged_event_log.h"
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

TEST(RocksEventLogTest, AppendNumbersAndReplaysInOrder) {
  testing::TempDir dir;
  auto db = Database::Open(dir.path());
  ASSERT_TRUE(db.ok()) << db.status();
  MetaStore meta(db->get());
  RocksEventLog log(db->get(), &meta, /*sync=*/false);
  log.StartAt(1);
  std::vector<model::Example> a = {Ex(1, 10), Ex(0, 20)}, b = {Ex(1, 30)};
  std::string id1 = "e1", id2 = "", id3 = "e3";
  auto first = log.Append({{&a[0], &id1}, {&a[1], &id2}}, {});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, 1u);
  first = log.Append({{&b[0], &id3}}, {{"emb", 4}});  // a field registered with it
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, 3u);
  EXPECT_EQ(*log.LastSeq(), 3u);
  EXPECT_EQ(*log.FirstSeq(), 1u);
  EXPECT_EQ(*meta.LoadVectorDims(), (VectorDimList{{"emb", 4}}));
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
  // Only fields: nothing logged, the next number unchanged.
  first = log.Append({}, {{"title", 8}});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, 4u);
  EXPECT_EQ(*log.LastSeq(), 3u);
}

// A flush marker takes a sequence number of its own: alone in a record or among events,
// it replays at its place (on_flush), the events around it keep theirs, the log's last
// number counts it, the numbering stays gapless across a reopen, and an events-only replay
// skips it. The legacy encoding writes a marker record as format 4 and records of events
// alone as format 3; the default writes format 5 for both.
TEST(RocksEventLogTest, FlushMarkersTakeASequenceNumberAndReplayInPlace) {
  testing::TempDir dir;
  std::vector<model::Example> a = {Ex(1, 10), Ex(0, 20), Ex(1, 30)};
  std::string id1 = "e1", id2 = "e2", id3 = "e3";
  {
    auto db = Database::Open(dir.path());
    ASSERT_TRUE(db.ok()) << db.status();
    RocksEventLog log(db->get(), nullptr, /*sync=*/false, RecordEncoding::kLegacy);
    log.StartAt(1);
    EXPECT_EQ(*log.Append({{&a[0], &id1}}, {}), 1u);
    EXPECT_EQ(*log.Append({LogEntry::FlushMarker()}, {}), 2u);  // a quiet stream's marker
    EXPECT_EQ(*log.Append({{&a[1], &id2}, LogEntry::FlushMarker(), {&a[2], &id3}}, {}), 3u);
    EXPECT_EQ(*log.LastSeq(), 5u);
    auto format = [&](uint64_t key) {
      absl::StatusOr<std::optional<std::string>> value =
          (*db)->Get(Family::kEvents, BigEndianKey(key));
      EXPECT_TRUE(value.ok() && value->has_value()) << key;
      return value.ok() && value->has_value() ? RecordReader(**value, key).format() : 0u;
    };
    EXPECT_EQ(format(1), 3u);
    EXPECT_EQ(format(2), 4u);
    EXPECT_EQ(format(3), 4u);
  }
  auto db = Database::Open(dir.path());
  ASSERT_TRUE(db.ok()) << db.status();
  RocksEventLog log(db->get(), nullptr, /*sync=*/false);
  EXPECT_EQ(*log.LastSeq(), 5u);
  std::vector<std::string> seen;
  auto replay = [&](uint64_t after) {
    seen.clear();
    return log.Replay(
        after,
        [&](uint64_t seq, model::Example&, std::string& id) {
          seen.push_back(std::to_string(seq) + ":" + id);
        },
        [&](uint64_t seq) { seen.push_back(std::to_string(seq) + ":flush"); });
  };
  ASSERT_TRUE(replay(0).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"1:e1", "2:flush", "3:e2", "4:flush", "5:e3"}));
  ASSERT_TRUE(replay(3).ok());  // from inside the mixed record
  EXPECT_EQ(seen, (std::vector<std::string>{"4:flush", "5:e3"}));
  std::vector<uint64_t> events;
  ASSERT_TRUE(log.Replay(0, [&](uint64_t seq, model::Example&, std::string&) {
    events.push_back(seq);
  }).ok());
  EXPECT_EQ(events, (std::vector<uint64_t>{1, 3, 5}));
  log.StartAt(6);
  EXPECT_EQ(*log.Append({{&a[0], &id1}}, {}), 6u);  // format 5 after formats 3 and 4
  {
    absl::StatusOr<std::optional<std::string>> v = (*db)->Get(Family::kEvents, BigEndianKey(6));
    ASSERT_TRUE(v.ok() && v->has_value());
    EXPECT_EQ(RecordReader(**v, 6).format(), 5u);
  }
  ASSERT_TRUE(replay(5).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"6:e1"}));
  ASSERT_TRUE(replay(0).ok());  // the mixed log replays whole
  EXPECT_EQ(seen, (std::vector<std::string>{"1:e1", "2:flush", "3:e2", "4:flush", "5:e3",
                                            "6:e1"}));

  UnloggedEventLog unlogged(db->get(), nullptr);
  unlogged.StartAt(10);
  EXPECT_EQ(*unlogged.Append({{&a[0], &id1}, LogEntry::FlushMarker()}, {}), 10u);
  EXPECT_EQ(*unlogged.Append({{&a[1], &id2}}, {}), 12u);  // the marker took 11
}

TEST(RocksEventLogTest, SurvivesReopenAndTruncates) {
  testing::TempDir dir;
  std::vector<model::Example> ex = {Ex(1, 1)};
  std::string id = "x";
  {
    auto db = Database::Open(dir.path());
    RocksEventLog log(db->get(), nullptr, false);
    log.StartAt(1);
    for (uint64_t s = 1; s <= 100; ++s) ASSERT_EQ(*log.Append({{&ex[0], &id}}, {}), s);
  }
  auto db = Database::Open(dir.path());
  RocksEventLog log(db->get(), nullptr, false);
  EXPECT_EQ(*log.LastSeq(), 100u);
  ASSERT_TRUE(log.TruncateBefore(61).ok());
  uint64_t first = 0, count = 0;
  ASSERT_TRUE(log.Replay(0, [&](uint64_t seq, model::Example&, std::string&) {
    if (count++ == 0) first = seq;
  }).ok());
  EXPECT_EQ(first, 61u);
  EXPECT_EQ(count, 40u);
  EXPECT_EQ(*log.FirstSeq(), 61u);
  EXPECT_GT(log.ApproximateBytes(), 0u);
}

// Truncation frees the disk space of the files it covers at once (they are deleted, not
// compacted), and the log still replays exactly the events kept.
TEST(RocksEventLogTest, TruncationDeletesTheFilesItCovers) {
  testing::TempDir dir;
  auto db = Database::Open(dir.path());
  RocksEventLog log(db->get(), nullptr, false);
  log.StartAt(1);
  model::Example big = Ex(1, 1);
  uint64_t h = 88172645463325252ull;  // xorshift: incompressible hashes and values
  for (int i = 0; i < 2000; ++i) {  // ~32 KB
    h ^= h << 13, h ^= h >> 7, h ^= h << 17;
    big.features.push_back({h, static_cast<float>(h >> 40), static_cast<uint32_t>(h)});
  }
  std::string id = "x";
  const uint64_t n = 4000;  // ~128 MB: several memtable flushes
  for (uint64_t s = 1; s <= n; ++s) ASSERT_EQ(*log.Append({{&big, &id}}, {}), s);
  const auto sst_bytes = [&] {
    uint64_t bytes = 0;
    for (const auto& f : std::filesystem::directory_iterator(dir.path())) {
      if (f.path().extension() == ".sst") bytes += f.file_size();
    }
    return bytes;
  };
  const uint64_t before = sst_bytes();
  ASSERT_GT(before, uint64_t{40} << 20);
  ASSERT_TRUE(log.TruncateBefore(n - 99).ok());
  EXPECT_LT(sst_bytes(), before / 2);
  EXPECT_EQ(*log.FirstSeq(), n - 99);
  uint64_t first = 0, count = 0;
  ASSERT_TRUE(log.Replay(0, [&](uint64_t seq, model::Example& e, std::string&) {
    if (count++ == 0) first = seq;
    EXPECT_EQ(e.features.size(), big.features.size());
  }).ok());
  EXPECT_EQ(first, n - 99);
  EXPECT_EQ(count, 100u);
}

TEST(RocksEventLogTest, ReadsFormatOneAndRefusesUnknownFormatsByName) {
  testing::TempDir dir;
  auto db = Database::Open(dir.path());
  // A format-1 record (no header) of two events, as earlier builds wrote them.
  std::string v1;
  PutU32(v1, 2);
  for (int i = 0; i < 2; ++i) {
    PutF32(v1, 1.0f);
    PutF32(v1, 1.0f);
    PutU64(v1, 1700000000000);
    PutString(v1, "old" + std::to_string(i));
    PutU32(v1, 1);
    PutU64(v1, 99);
    PutF32(v1, 1.0f);
  }
  Seal(v1);
  rocksdb::WriteBatch batch;
  (*db)->Put(batch, Family::kEvents, BigEndianKey(1), v1);
  ASSERT_TRUE((*db)->Write(batch, false).ok());
  RocksEventLog log(db->get(), nullptr, false);
  log.StartAt(3);
  std::vector<model::Example> ex = {Ex(0, 5)};
  std::string id = "new";
  ASSERT_EQ(*log.Append({{&ex[0], &id}}, {}), 3u);  // a format-2 record after it
  std::vector<std::string> ids;
  ASSERT_TRUE(log.Replay(0, [&](uint64_t, model::Example&, std::string& i) {
    ids.push_back(i);
  }).ok());
  EXPECT_EQ(ids, (std::vector<std::string>{"old0", "old1", "new"}));
  EXPECT_EQ(*log.LastSeq(), 3u);
  // A record of a format from the future: refused, naming both formats.
  std::string v9;
  PutU32(v9, 0);
  PutU32(v9, 9);
  PutU32(v9, 1);
  Seal(v9);
  rocksdb::WriteBatch future;
  (*db)->Put(future, Family::kEvents, BigEndianKey(4), v9);
  ASSERT_TRUE((*db)->Write(future, false).ok());
  absl::Status s = log.Replay(0, [](uint64_t, model::Example&, std::string&) {});
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(s.message()).find("has format 9; this build reads formats 1 to 5"),
            std::string::npos) << s;
}

TEST(RocksEventLogTest, CorruptRecordIsDataLoss) {
  testing::TempDir dir;
  auto db = Database::Open(dir.path());
  rocksdb::WriteBatch batch;
  (*db)->Put(batch, Family::kEvents, std::string(7, '\0') + '\x01', "garbage");
  ASSERT_TRUE((*db)->Write(batch, false).ok());
  RocksEventLog log(db->get(), nullptr, false);
  absl::Status s = log.Replay(0, [](uint64_t, model::Example&, std::string&) {});
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
}

// Writes a record of `n` events (labels `label`) at `first`, as the log would.
void PutRecord(Database& db, uint64_t first, int n, float label = 1.0f, float weight = 1.0f) {
  std::vector<model::Example> ex(n, Ex(label, 7));
  for (auto& e : ex) e.weight = weight;
  std::vector<std::string> ids(n, "");
  std::vector<LogEntry> entries;
  for (int i = 0; i < n; ++i) entries.push_back({&ex[i], &ids[i]});
  rocksdb::WriteBatch batch;
  db.Put(batch, Family::kEvents, BigEndianKey(first), EncodeRecord(entries));
  ASSERT_TRUE(db.Write(batch, false).ok());
}

absl::Status ReplayAll(RocksEventLog& log, uint64_t after, std::vector<uint64_t>* seqs) {
  return log.Replay(after, [&](uint64_t seq, model::Example&, std::string&) {
    seqs->push_back(seq);
  });
}

// Hostile pass: records that do not follow on from each other were replayed as if they
// did (a gap skipped acknowledged events; an overlap trained events twice).
TEST(RocksEventLogTest, GapsAndOverlapsBetweenRecordsAreDataLoss) {
  testing::TempDir dir;
  auto db = Database::Open(dir.path());
  PutRecord(**db, 1, 10);
  PutRecord(**db, 11, 10);
  RocksEventLog log(db->get(), nullptr, false);
  std::vector<uint64_t> seqs;
  ASSERT_TRUE(ReplayAll(log, 0, &seqs).ok());
  EXPECT_EQ(seqs.size(), 20u);
  EXPECT_EQ(seqs.back(), 20u);

  PutRecord(**db, 26, 5);  // events 21..25 missing
  seqs.clear();
  absl::Status s = ReplayAll(log, 0, &seqs);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "the event log has a gap: events 21..25 are missing (the next "
                         "record starts at 26)");
  // Replaying from after the gap is fine: only what is read must follow on.
  seqs.clear();
  EXPECT_TRUE(ReplayAll(log, 26, &seqs).ok());
  EXPECT_EQ(seqs, (std::vector<uint64_t>{27, 28, 29, 30}));

  testing::TempDir dir2;
  auto db2 = Database::Open(dir2.path());
  PutRecord(**db2, 1, 10);
  PutRecord(**db2, 5, 10);  // starts inside the first
  RocksEventLog log2(db2->get(), nullptr, false);
  seqs.clear();
  s = ReplayAll(log2, 0, &seqs);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "the event log's records overlap: the record at seq 5 starts inside "
                         "the previous one, which ends at 10");
}

// Hostile pass: a record holding what the API refuses (a NaN or out-of-range label, a
// negative or infinite weight) is damage, not an event to train on.
TEST(RocksEventLogTest, EventsTheApiWouldRefuseAreDataLoss) {
  struct Case {
    float label, weight;
    const char* message;
  };
  const Case cases[] = {
      {std::nanf(""), 1.0f, "event log record at seq 1 holds event 1 with label nan, outside [0, 1]"},
      {5.0f, 1.0f, "event log record at seq 1 holds event 1 with label 5, outside [0, 1]"},
      {1.0f, -1.0f, "event log record at seq 1 holds event 1 with weight -1, not a finite value >= 0"},
      {1.0f, INFINITY, "event log record at seq 1 holds event 1 with weight inf, not a finite value >= 0"},
  };
  for (const Case& c : cases) {
    testing::TempDir dir;
    auto db = Database::Open(dir.path());
    PutRecord(**db, 1, 1, c.label, c.weight);
    RocksEventLog log(db->get(), nullptr, false);
    std::vector<uint64_t> seqs;
    absl::Status s = ReplayAll(log, 0, &seqs);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(s.message(), c.message);
    EXPECT_TRUE(seqs.empty());
  }
}

TEST(UnloggedEventLogTest, NumbersEventsKeepsFieldsLogsNothing) {
  testing::TempDir dir;
  auto db = Database::Open(dir.path());
  MetaStore meta(db->get());
  UnloggedEventLog log(db->get(), &meta);
  log.StartAt(10);
  std::vector<model::Example> ex = {Ex(1, 1), Ex(0, 2)};
  std::string id;
  EXPECT_EQ(*log.Append({{&ex[0], &id}, {&ex[1], &id}}, {{"emb", 3}}), 10u);
  EXPECT_EQ(*log.Append({{&ex[0], &id}}, {}), 12u);
  EXPECT_EQ(*log.LastSeq(), 0u);
  int replayed = 0;
  ASSERT_TRUE(log.Replay(0, [&](uint64_t, model::Example&, std::string&) { ++replayed; }).ok());
  EXPECT_EQ(replayed, 0);
  EXPECT_EQ(*meta.LoadVectorDims(), (VectorDimList{{"emb", 3}}));
}

}  // namespace
}  // namespace streamrec::storage
