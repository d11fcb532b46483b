// Persistence (server/persistence.h) on a real RocksDB in a temporary directory: a data
// dir is created and resumed, the event log follows --durability, an incompatible model
// config is refused (the data untouched) unless start_fresh deletes it, a compatible
// change is accepted; Persist writes a snapshot and truncates the log to what retention
// and the de-duplication window need; a failed write (FaultFs) makes the database
// unwritable and the storage thread's Tick recovers it, sweeping the failed write's
// chunks, and reports health on the way.
#include "server/persistence.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "storage/config_codec.h"
#include "tests/testing/fault_fs.h"
#include "tests/testing/temp_dir.h"

namespace streamrec::server {
namespace {

model::ModelConfig Config(uint32_t hash_bits = 12) {
  model::ModelConfig c;
  c.hash_bits = hash_bits;
  return c;
}

model::Example Ex(uint64_t i) {
  model::Example e;
  e.features = {{i * 7919, 1.0f}, {i % 3, 0.5f}};
  e.label = static_cast<float>(i % 2);
  return e;
}

class PersistenceTest : public ::testing::Test {
 protected:
  storage::StorageOptions Options() {
    storage::StorageOptions o;
    o.data_dir = dir_.path();
    o.file_system = fs_;
    o.recovery_interval = std::chrono::milliseconds(10);
    return o;
  }
  std::unique_ptr<Persistence> Open(const storage::StorageOptions& o,
                                    const model::ModelConfig& config = Config(),
                                    size_t dedup_window = 0,
                                    std::function<void()> health = nullptr) {
    auto p = Persistence::Open(o, config, false, dedup_window, std::move(health));
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *std::move(p) : nullptr;
  }
  // Log appends events from..to, one record each (so truncation can cut between them).
  static void Log(Persistence& p, uint64_t from, uint64_t to) {
    p.log().StartAt(from);
    for (uint64_t i = from; i <= to; ++i) {
      const model::Example ex = Ex(i);
      const std::string id = "e" + std::to_string(i);
      ASSERT_EQ(*p.log().Append({{&ex, &id}}, {}), i);
    }
  }
  // Snapshot persists `model` as `version` covering the log up to last_seq.
  static absl::Status Snapshot(Persistence& p, model::Model& model, uint64_t version,
                               uint64_t last_seq) {
    core::Checkpoint c;
    c.version = version;
    c.last_seq = last_seq;
    auto ticket = std::make_shared<core::PersistTicket>(version);
    if (absl::Status s = p.Persist(model, c, ticket); !s.ok()) return s;
    return ticket->Wait();
  }
  // Chunks counts the stored chunks (on the storage thread, as iterators must be).
  static size_t Chunks(Persistence& p) {
    size_t n = 0;
    p.executor().Post([&] {
      auto it = p.db().NewIterator(storage::Family::kChunks);
      for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    });
    p.executor().WaitIdle();
    return n;
  }

  std::shared_ptr<testing::FaultFs> fs_ = std::make_shared<testing::FaultFs>();
  testing::TempDir dir_;
};

TEST_F(PersistenceTest, CreatesAndResumesADataDirAndLogsPerDurability) {
  {
    auto p = Open(Options());
    ASSERT_TRUE(p);
    EXPECT_TRUE(p->logged());
    auto stored = p->meta().LoadEncodedConfig();
    ASSERT_TRUE(stored.ok() && stored->has_value());
    EXPECT_EQ(storage::DecodeConfig(**stored)->hash_bits, 12u);
    Log(*p, 1, 3);
  }
  {
    auto p = Open(Options());
    ASSERT_TRUE(p);
    EXPECT_EQ(*p->log().FirstSeq(), 1u);
    EXPECT_EQ(*p->log().LastSeq(), 3u);
  }
  storage::StorageOptions none = Options();
  none.durability = storage::Durability::kNone;
  auto p = Open(none);
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->logged());
  Log(*p, 4, 6);  // numbered, not logged
  EXPECT_EQ(*p->log().LastSeq(), 0u);
  uint64_t replayed = 0;
  ASSERT_TRUE(
      p->log().Replay(0, [&](uint64_t, model::Example&, std::string&) { ++replayed; }).ok());
  EXPECT_EQ(replayed, 0u);
}

TEST_F(PersistenceTest, AnIncompatibleConfigIsRefusedUnlessStartFresh) {
  {
    auto p = Open(Options());
    ASSERT_TRUE(p);
    Log(*p, 1, 3);
  }
  auto refused = Persistence::Open(Options(), Config(13), false, 0, nullptr);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  const std::string message(refused.status().message());
  EXPECT_NE(message.find("cannot be resumed"), std::string::npos) << message;
  EXPECT_NE(message.find("hash_bits 12"), std::string::npos) << message;
  EXPECT_NE(message.find("--start_fresh"), std::string::npos) << message;
  model::ModelConfig adam = Config();
  adam.optimizer = model::DefaultOptimizerConfig(model::OptimizerKind::kAdam);
  EXPECT_EQ(Persistence::Open(Options(), adam, false, 0, nullptr).status().code(),
            absl::StatusCode::kFailedPrecondition);
  {  // Refusing touched nothing; a compatible change (the learning rate) is accepted.
    model::ModelConfig faster = Config();
    faster.optimizer.learning_rate = 0.9;
    auto p = Open(Options(), faster);
    ASSERT_TRUE(p);
    EXPECT_EQ(*p->log().LastSeq(), 3u);
    EXPECT_EQ(storage::DecodeConfig(**p->meta().LoadEncodedConfig())->optimizer.learning_rate, 0.9);
  }
  storage::StorageOptions fresh = Options();
  fresh.start_fresh = true;
  {
    auto p = Open(fresh, Config(13));
    ASSERT_TRUE(p);
    EXPECT_EQ(*p->log().LastSeq(), 0u);  // the old data is gone
    EXPECT_EQ(*p->meta().LoadVectorDims(), storage::VectorDimList{});
  }
  // The new config is the data dir's now: the old one is refused in turn.
  EXPECT_EQ(Persistence::Open(Options(), Config(12), false, 0, nullptr).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Persistence::Open(fresh, Config(13), false, 0, nullptr).ok());  // nothing to delete
}

// The log is kept after the oldest retained snapshot, and for the last dedup_window
// events of the snapshot just written; truncation cuts whole records (one event each
// here).
TEST_F(PersistenceTest, PersistTruncatesTheLogToRetentionAndTheDedupWindow) {
  struct Case {
    size_t retained, window;
    uint64_t first_kept;
  };
  for (const Case& c :
       {Case{1, 0, 20}, Case{1, 5, 16}, Case{1, 50, 1}, Case{2, 0, 11}, Case{2, 5, 11}}) {
    SCOPED_TRACE(::testing::Message() << "retained " << c.retained << ", window " << c.window);
    testing::TempDir dir;
    storage::StorageOptions o = Options();
    o.data_dir = dir.path();
    o.snapshots_retained = c.retained;
    auto p = Open(o, Config(), c.window);
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->store().Open().ok());
    auto model = *model::CreateModel(Config());
    Log(*p, 1, 20);
    for (uint64_t i = 1; i <= 10; ++i) model->Train(Ex(i));
    ASSERT_TRUE(Snapshot(*p, *model, 1, 10).ok());
    for (uint64_t i = 11; i <= 20; ++i) model->Train(Ex(i));
    ASSERT_TRUE(Snapshot(*p, *model, 2, 20).ok());
    std::vector<uint64_t> versions;
    for (const storage::SnapshotInfo& s : p->store().List()) versions.push_back(s.meta.version);
    EXPECT_EQ(versions.size(), c.retained);
    EXPECT_EQ(versions.back(), 2u);
    EXPECT_EQ(*p->log().FirstSeq(), c.first_kept);
    EXPECT_EQ(*p->log().LastSeq(), 20u);
  }
}

TEST_F(PersistenceTest, StopRunsTheQueuedWriteFirst) {
  auto p = Open(Options());
  ASSERT_TRUE(p);
  ASSERT_TRUE(p->store().Open().ok());
  auto model = *model::CreateModel(Config());
  model->Train(Ex(1));
  core::Checkpoint c;
  c.version = 1;
  auto ticket = std::make_shared<core::PersistTicket>(1);
  ASSERT_TRUE(p->Persist(*model, c, ticket).ok());
  p->Stop();
  EXPECT_EQ(ticket->state(), core::CheckpointState::kWritten);
  p->Stop();  // idempotent
  ASSERT_TRUE(p->store().Find(1).ok());
}

TEST_F(PersistenceTest, AFailedWriteMakesStorageUnwritableUntilTickRecoversIt) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<bool> health;  // writable() at each health_changed call
  std::atomic<bool> fail_manifest{false};
  storage::StorageOptions o = Options();
  o.testing_before_manifest = [&, fs = fs_] {
    if (fail_manifest.load()) fs->FailWrites(true);  // the disk fills up before the manifest
  };
  std::atomic<Persistence*> self{nullptr};
  auto p = Open(o, Config(), 0, [&] {  // on the storage thread, after each check
    Persistence* s = self.load();
    if (s == nullptr) return;
    std::lock_guard<std::mutex> lock(mu);
    health.push_back(s->writable());
    cv.notify_all();
  });
  ASSERT_TRUE(p);
  self = p.get();
  ASSERT_TRUE(p->store().Open().ok());
  auto model = *model::CreateModel(Config());
  for (uint64_t i = 1; i <= 50; ++i) model->Train(Ex(i));
  ASSERT_TRUE(Snapshot(*p, *model, 1, 0).ok());
  const size_t chunks = Chunks(*p);
  ASSERT_GT(chunks, 0u);

  for (uint64_t i = 51; i <= 100; ++i) model->Train(Ex(i));
  fail_manifest = true;
  absl::Status failed = Snapshot(*p, *model, 2, 0);
  EXPECT_FALSE(failed.ok());
  EXPECT_FALSE(p->writable());
  EXPECT_NE(p->db().write_error().message().find("No space left"), std::string::npos)
      << p->db().write_error();
  EXPECT_GT(Chunks(*p), chunks);  // the failed snapshot's chunks, referenced by nothing
  EXPECT_FALSE(p->store().Find(2).ok());
  const model::Example ex = Ex(1);
  const std::string id;
  EXPECT_EQ(p->log().Append({{&ex, &id}}, {}).status().code(), absl::StatusCode::kUnavailable);

  fail_manifest = false;
  fs_->FailWrites(false);
  {  // A check reports the database unwritable (before it tries to recover), a later one
     // writable again.
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] {
      auto unwritable = std::find(health.begin(), health.end(), false);
      return unwritable != health.end() &&
             std::find(unwritable, health.end(), true) != health.end();
    }));
  }
  EXPECT_TRUE(p->writable());
  EXPECT_TRUE(p->db().write_error().ok());
  EXPECT_EQ(p->db().recoveries(), 1u);
  EXPECT_EQ(Chunks(*p), chunks);  // swept in the Tick that recovered
  // Writes work again; the next snapshot writes every chunk (nothing rests on the lost
  // write).
  EXPECT_TRUE(p->log().Append({{&ex, &id}}, {}).ok());
  ASSERT_TRUE(Snapshot(*p, *model, 3, 0).ok());
  auto restored = *model::CreateModel(Config());
  ASSERT_TRUE(p->store().Restore(3, *restored).ok());
  EXPECT_EQ(restored->Predict(Ex(7).features), model->Predict(Ex(7).features));
}

}  // namespace
}  // namespace streamrec::server
