// Database on a real RocksDB whose file system injects faults: the first failed write
// makes it refuse writes without touching RocksDB again, TryRecover reopens it once the
// disk takes writes, nothing written before is lost, batches built before a reopen stay
// valid, and read snapshots taken before it fail cleanly after it.
#include "storage/database.h"

#include <gtest/gtest.h>

#include "tests/testing/fault_fs.h"
#include "tests/testing/temp_dir.h"

namespace streamrec::storage {
namespace {

absl::Status Put(Database& db, const std::string& key, const std::string& value) {
  rocksdb::WriteBatch batch;
  db.Put(batch, Family::kMeta, key, value);
  return db.Write(batch, false);
}

TEST(DatabaseTest, FailedWriteMakesItUnwritableUntilRecovered) {
  testing::TempDir dir;
  auto fs = std::make_shared<testing::FaultFs>();
  auto db = Database::Open(DatabaseOptions{dir.path(), fs});
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(Put(**db, "a", "1").ok());
  EXPECT_TRUE((*db)->writable());
  EXPECT_TRUE((*db)->TryRecover().ok());  // cheap no-op while writable

  fs->FailWrites(true);
  absl::Status s = Put(**db, "b", "2");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(std::string(s.message()).find("not writable"), std::string::npos) << s;
  EXPECT_FALSE((*db)->writable());
  const uint64_t refused = fs->failures();
  // Later writes fail fast, without reaching RocksDB (its log writer would abort).
  fs->FailWrites(false);
  EXPECT_EQ(Put(**db, "c", "3").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(fs->failures(), refused);
  // A batch built while unwritable stays valid for after the reopen.
  rocksdb::WriteBatch later;
  (*db)->Put(later, Family::kMeta, "d", "4");

  fs->FailWrites(true);
  EXPECT_FALSE((*db)->TryRecover().ok());  // still full: stays unwritable...
  EXPECT_FALSE((*db)->writable());
  auto read = (*db)->Get(Family::kMeta, "a");  // ...but open read-only meanwhile
  ASSERT_TRUE(read.ok() && read->has_value()) << read.status();
  EXPECT_EQ(**read, "1");
  EXPECT_EQ(Put(**db, "c", "3").code(), absl::StatusCode::kUnavailable);
  fs->FailWrites(false);
  ASSERT_TRUE((*db)->TryRecover().ok());
  EXPECT_TRUE((*db)->writable());
  EXPECT_TRUE((*db)->write_error().ok());
  EXPECT_EQ((*db)->recoveries(), 1u);
  ASSERT_TRUE((*db)->Write(later, false).ok());
  auto a = (*db)->Get(Family::kMeta, "a");
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ(**a, "1");  // written before the failure, replayed from the log on reopen
  auto b = (*db)->Get(Family::kMeta, "b");
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->has_value());  // never acknowledged
  auto d = (*db)->Get(Family::kMeta, "d");
  ASSERT_TRUE(d.ok() && d->has_value());
}

TEST(DatabaseTest, ReadSnapshotSeesItsPointInTimeAndFailsAfterAReopen) {
  testing::TempDir dir;
  auto fs = std::make_shared<testing::FaultFs>();
  auto db = Database::Open(DatabaseOptions{dir.path(), fs});
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(Put(**db, "k", "old").ok());
  std::shared_ptr<ReadSnapshot> snapshot = (*db)->TakeSnapshot();
  ASSERT_TRUE(Put(**db, "k", "new").ok());
  auto old = (*db)->Get(Family::kMeta, "k", snapshot.get());
  ASSERT_TRUE(old.ok() && old->has_value());
  EXPECT_EQ(**old, "old");
  fs->FailWrites(true);
  EXPECT_FALSE(Put(**db, "x", "1").ok());
  fs->FailWrites(false);
  ASSERT_TRUE((*db)->TryRecover().ok());  // releases the snapshot with the old handle
  EXPECT_EQ((*db)->Get(Family::kMeta, "k", snapshot.get()).status().code(),
            absl::StatusCode::kUnavailable);
  std::unique_ptr<rocksdb::Iterator> it = (*db)->NewIterator(Family::kMeta, snapshot.get());
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  EXPECT_FALSE(it->status().ok());
  snapshot.reset();  // releasing a snapshot of an earlier generation is harmless
  auto now = (*db)->Get(Family::kMeta, "k");
  ASSERT_TRUE(now.ok() && now->has_value());
  EXPECT_EQ(**now, "new");
}

TEST(DatabaseTest, CountsWalSyncs) {
  testing::TempDir dir;
  auto db = Database::Open(dir.path());
  ASSERT_TRUE(db.ok());
  const uint64_t before = (*db)->wal_syncs();
  rocksdb::WriteBatch batch;
  (*db)->Put(batch, Family::kEvents, "k", "v");
  ASSERT_TRUE((*db)->Write(batch, false).ok());
  EXPECT_EQ((*db)->wal_syncs(), before);
  ASSERT_TRUE((*db)->Write(batch, true).ok());
  EXPECT_EQ((*db)->wal_syncs(), before + 1);
}

// EstimateSizes: memtables hold a write until a flush; after a compaction (which flushes
// first) the live data and the SST files hold it.
TEST(DatabaseTest, EstimatesSizes) {
  testing::TempDir dir;
  auto db = Database::Open(dir.path());
  ASSERT_TRUE(db.ok());
  rocksdb::WriteBatch batch;
  uint32_t x = 1;  // incompressible values: what is written is what the estimates see
  for (int i = 0; i < 100; ++i) {
    std::string value(1000, '\0');
    for (char& c : value) c = static_cast<char>((x = x * 1664525u + 1013904223u) >> 24);
    (*db)->Put(batch, Family::kChunks, "key" + std::to_string(i), value);
  }
  ASSERT_TRUE((*db)->Write(batch, false).ok());
  EXPECT_GT((*db)->EstimateSizes().memtable_bytes, 0u);
  ASSERT_TRUE((*db)->CompactRange(Family::kChunks, "", "\xff").ok());
  const Database::SizeEstimates e = (*db)->EstimateSizes();
  EXPECT_GT(e.live_data_bytes, 50000u);
  EXPECT_GT(e.sst_files_bytes, 50000u);
  EXPECT_EQ(e.pending_compaction_bytes, 0u);
}

}  // namespace
}  // namespace streamrec::storage

namespace streamrec::storage {
namespace {

// A disk that a cleanup freed by a few megabytes is not "recovered": ingest would flap.
TEST(DatabaseTest, RecoveryWaitsForHeadroom) {
  testing::TempDir dir;
  auto fs = std::make_shared<testing::FaultFs>();
  DatabaseOptions options;
  options.dir = dir.path();
  options.file_system = fs;
  options.recovery_free_bytes = uint64_t{1} << 62;  // more than any disk has
  auto db = Database::Open(options);
  ASSERT_TRUE(db.ok());
  fs->FailWrites(true);
  EXPECT_FALSE(Put(**db, "a", "1").ok());
  fs->FailWrites(false);
  absl::Status s = (*db)->TryRecover();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(std::string(s.message()).find("free space"), std::string::npos) << s;
  EXPECT_FALSE((*db)->writable());
  EXPECT_EQ((*db)->recoveries(), 0u);
}

}  // namespace
}  // namespace streamrec::storage
