// Recover (server/recovery.h) on a real data dir (Persistence over RocksDB in a temporary
// directory) into a real, not started Updater: a new data dir gets snapshot 0; the newest
// snapshot is restored and the events logged after it replayed, giving the model trained
// on every event, the stored vector fields, the de-duplication window (also from before
// the snapshot) and the next sequence number; a log gap after the snapshot and snapshots
// that do not verify are refused unless accept_data_loss; a cancelled recovery keeps the
// log for the next start; a DNN killed after a flushed partial batch and more events
// recovers, through the logged flush marker, the parameters of an uninterrupted run.
#include "server/recovery.h"

#include <gtest/gtest.h>

#include <atomic>

#include "storage/encoding.h"
#include "tests/testing/temp_dir.h"

namespace streamrec::server {
namespace {

model::ModelConfig Config() {
  model::ModelConfig c;
  c.hash_bits = 12;
  return c;
}

model::Example Ex(uint64_t i) {
  model::Example e;
  e.features = {{i * 7919, 1.0f}, {i % 3, 0.5f}, {1000 + i % 4, -1.0f}};
  e.label = static_cast<float>(i % 2);
  return e;
}

// Parts: what a server recovers, over one data dir. The updater goes first.
struct Parts {
  std::unique_ptr<Persistence> persistence;
  core::EventQueue queue{1000};
  core::BatchInbox inbox;
  core::SnapshotSlot slot;
  VectorDims dims;
  std::unique_ptr<core::Updater> updater;
};

class RecoveryTest : public ::testing::Test {
 protected:
  std::unique_ptr<Parts> Open(bool accept_data_loss = false,
                              const model::ModelConfig& config = Config(),
                              const std::string& dir = "") {
    storage::StorageOptions o;
    o.data_dir = dir.empty() ? dir_.path() : dir;
    o.accept_data_loss = accept_data_loss;
    auto p = Persistence::Open(o, config, false, 0, nullptr);
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) return nullptr;
    auto parts = std::make_unique<Parts>();
    parts->persistence = *std::move(p);
    Persistence* raw = parts->persistence.get();
    core::UpdaterOptions options;
    options.persist_interval_ms = 0;
    parts->updater = std::make_unique<core::Updater>(
        *model::CreateModel(config), &parts->queue, &parts->inbox, &parts->slot, options,
        [raw](model::Model& m, const core::Checkpoint& c, std::shared_ptr<core::PersistTicket> t) {
          return raw->Persist(m, c, std::move(t));
        });
    return parts;
  }
  static absl::StatusOr<Recovered> Recover(Parts& parts, size_t window = 0,
                                           const std::atomic<bool>* cancel = nullptr) {
    RecoveryOptions options;
    options.dedup_window = window;
    options.cancel = cancel;
    return server::Recover(*parts.persistence, *parts.updater, parts.dims, options);
  }
  // Seed: a data dir with events 1..10 logged, one record each (event 3 registers the
  // vector field "emb" of dimension 4), and a snapshot of events 1..4. Returns its version.
  uint64_t Seed() {
    auto parts = Open();
    EXPECT_TRUE(parts && Recover(*parts).ok());
    if (!parts) return 0;
    for (uint64_t i = 1; i <= 10; ++i) {
      const model::Example ex = Ex(i);
      const std::string id = "e" + std::to_string(i);
      storage::VectorDimList dims;
      if (i == 3) dims.emplace_back("emb", 4);
      EXPECT_EQ(*parts->persistence->log().Append({{&ex, &id}}, dims), i);
    }
    core::EventBatch batch;
    batch.first_seq = 1;
    for (uint64_t i = 1; i <= 4; ++i) batch.examples.push_back(Ex(i));
    parts->updater->Replay(batch);
    absl::StatusOr<uint64_t> version = parts->updater->PersistAndWait();
    EXPECT_TRUE(version.ok()) << version.status();
    return version.value_or(0);
  }
  // ExpectRefusedNaming: a start without accepting the loss is refused, naming `what`
  // and the flag that would accept it.
  void ExpectRefusedNaming(const std::string& what) {
    auto parts = Open();
    ASSERT_TRUE(parts);
    absl::StatusOr<Recovered> r = Recover(*parts);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(r.status().message().find(what), std::string::npos) << r.status();
    EXPECT_NE(r.status().message().find("--accept_data_loss"), std::string::npos);
  }
  // ExpectTrainedOn: `model` is exactly a new model trained on `events`, in order.
  static void ExpectTrainedOn(model::Model& model, const std::vector<uint64_t>& events) {
    auto reference = *model::CreateModel(Config());
    for (uint64_t i : events) reference->Train(Ex(i));
    for (uint64_t i = 1; i <= 12; ++i) {
      EXPECT_EQ(model.Predict(Ex(i).features), reference->Predict(Ex(i).features)) << i;
    }
  }

  testing::TempDir dir_;
};

TEST_F(RecoveryTest, ANewDataDirStartsFromSnapshotZero) {
  for (int start = 0; start < 2; ++start) {  // created, then resumed
    auto parts = Open();
    ASSERT_TRUE(parts);
    absl::StatusOr<Recovered> r = Recover(*parts, /*window=*/5);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->next_seq, 1u);
    EXPECT_TRUE(r->recent_ids.empty());
    std::vector<storage::SnapshotInfo> snapshots = parts->persistence->store().List();
    ASSERT_EQ(snapshots.size(), 1u);
    EXPECT_EQ(snapshots[0].meta.version, 0u);
    EXPECT_EQ(snapshots[0].meta.last_seq, 0u);
    EXPECT_EQ(parts->updater->version(), 0u);
    EXPECT_EQ(parts->updater->Counters().events_applied, 0u);
    ExpectTrainedOn(parts->updater->model(), {});
  }
}

TEST_F(RecoveryTest, RestoresTheNewestSnapshotAndReplaysTheLogAfterIt) {
  const uint64_t version = Seed();
  ASSERT_GT(version, 0u);
  auto parts = Open();
  ASSERT_TRUE(parts);
  absl::StatusOr<Recovered> r = Recover(*parts, /*window=*/3);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->next_seq, 11u);
  EXPECT_EQ(r->recent_ids, (std::vector<std::string>{"e8", "e9", "e10"}));
  core::UpdaterStats stats = parts->updater->Counters();
  EXPECT_EQ(stats.events_applied, 10u);
  EXPECT_EQ(stats.last_seq, 10u);
  EXPECT_EQ(stats.persisted_version, version);  // at once, not after the next update
  // Of the restored snapshot, the one served until Start publishes the replayed events.
  EXPECT_GT(stats.nonzero_parameters, 0u);
  EXPECT_EQ(parts->updater->version(), version);  // replayed events publish at Start
  EXPECT_EQ(parts->dims.Find("emb"), 4u);
  ExpectTrainedOn(parts->updater->model(), {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  const model::Example ex = Ex(11);
  const std::string id = "e11";
  EXPECT_EQ(*parts->persistence->log().Append({{&ex, &id}}, {}), 11u);  // numbering goes on
  parts.reset();
  // A window reaching back before the snapshot is read from the log too.
  parts = Open();
  ASSERT_TRUE(parts);
  r = Recover(*parts, /*window=*/8);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->next_seq, 12u);
  EXPECT_EQ(r->recent_ids,
            (std::vector<std::string>{"e4", "e5", "e6", "e7", "e8", "e9", "e10", "e11"}));
  ExpectTrainedOn(parts->updater->model(), {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
}

TEST_F(RecoveryTest, ALogGapIsRefusedUnlessTheLossIsAccepted) {
  ASSERT_GT(Seed(), 0u);
  {
    auto parts = Open();
    ASSERT_TRUE(parts);
    ASSERT_TRUE(parts->persistence->log().TruncateBefore(8).ok());  // events 1..7 lost
    ASSERT_EQ(*parts->persistence->log().FirstSeq(), 8u);
  }
  ExpectRefusedNaming("events 5..7 are missing");
  auto parts = Open(/*accept_data_loss=*/true);
  ASSERT_TRUE(parts);
  absl::StatusOr<Recovered> r = Recover(*parts);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->next_seq, 11u);
  EXPECT_EQ(parts->updater->Counters().events_applied, 7u);
  ExpectTrainedOn(parts->updater->model(), {1, 2, 3, 4, 8, 9, 10});
  // The decision is recorded at once (hostile pass: a crash before the next snapshot made
  // the next start refuse the same gap again): a snapshot past the gap is on disk.
  EXPECT_EQ(parts->persistence->store().List().back().meta.last_seq, 10u);
}

TEST_F(RecoveryTest, SnapshotsThatDoNotVerifyAreRefusedUnlessTheLossIsAccepted) {
  const uint64_t version = Seed();
  ASSERT_GT(version, 0u);
  {  // Damage every manifest (snapshots 0 and `version`).
    auto parts = Open();
    ASSERT_TRUE(parts);
    storage::Database& db = parts->persistence->db();
    rocksdb::WriteBatch batch;
    auto it = db.NewIterator(storage::Family::kSnapshots);
    int manifests = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++manifests) {
      db.Put(batch, storage::Family::kSnapshots, it->key().ToStringView(), "not a manifest");
    }
    it.reset();
    EXPECT_EQ(manifests, 2);
    ASSERT_TRUE(db.Write(batch, true).ok());
  }
  ExpectRefusedNaming("none verifies");
  // Accepted: an empty model under a version above every one seen, and the whole log
  // replayed into it.
  auto parts = Open(/*accept_data_loss=*/true);
  ASSERT_TRUE(parts);
  absl::StatusOr<Recovered> r = Recover(*parts);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->next_seq, 11u);
  EXPECT_GT(parts->updater->version(), version);
  EXPECT_EQ(parts->updater->Counters().persisted_version, parts->updater->version());
  ExpectTrainedOn(parts->updater->model(), {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  parts.reset();
  // That start left a data dir that resumes without accepting anything.
  parts = Open();
  ASSERT_TRUE(parts);
  r = Recover(*parts);
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectTrainedOn(parts->updater->model(), {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
}

// Hostile pass: with the newest snapshot unreadable (e.g. a newer build's format), the
// older one restored was served under versions already used, and the next save overwrote
// the unreadable manifest. Now it serves above every version seen and never writes over
// it; retention keeps every chunk while a manifest is unreadable.
TEST_F(RecoveryTest, AnUnreadableNewestSnapshotIsNeitherReusedNorOverwritten) {
  const uint64_t version = Seed();
  ASSERT_GT(version, 0u);
  const std::string future = "a manifest of a format from the future";
  const uint64_t unreadable = version + 5;
  auto chunks = [](storage::Database& db) {
    size_t n = 0;
    auto it = db.NewIterator(storage::Family::kChunks);
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    return n;
  };
  size_t chunks_before = 0;
  {
    auto parts = Open();
    ASSERT_TRUE(parts);
    storage::Database& db = parts->persistence->db();
    rocksdb::WriteBatch batch;
    db.Put(batch, storage::Family::kSnapshots, storage::BigEndianKey(unreadable), future);
    ASSERT_TRUE(db.Write(batch, true).ok());
    chunks_before = chunks(db);
  }
  auto parts = Open();
  ASSERT_TRUE(parts);
  absl::StatusOr<Recovered> r = Recover(*parts);
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectTrainedOn(parts->updater->model(), {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  EXPECT_GT(parts->updater->version(), unreadable);
  // Saves (more than retention keeps) go above it and leave it and every chunk alone.
  for (int i = 0; i < 7; ++i) {
    absl::StatusOr<uint64_t> saved = parts->updater->PersistAndWait();
    ASSERT_TRUE(saved.ok()) << saved.status();
    EXPECT_GT(*saved, unreadable);
    core::EventBatch batch;
    batch.first_seq = 11 + i;
    batch.examples.push_back(Ex(11 + i));
    parts->updater->Replay(batch);
  }
  storage::Database& db = parts->persistence->db();
  absl::StatusOr<std::optional<std::string>> kept =
      db.Get(storage::Family::kSnapshots, storage::BigEndianKey(unreadable));
  ASSERT_TRUE(kept.ok() && kept->has_value());
  EXPECT_EQ(**kept, future);
  EXPECT_GE(chunks(db), chunks_before);
}

TEST_F(RecoveryTest, ACancelledRecoveryKeepsTheLogForTheNextStart) {
  ASSERT_GT(Seed(), 0u);
  {
    auto parts = Open();
    ASSERT_TRUE(parts);
    std::atomic<bool> cancel{true};
    absl::StatusOr<Recovered> r = Recover(*parts, 0, &cancel);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
    EXPECT_NE(r.status().message().find("before replaying"), std::string::npos) << r.status();
    EXPECT_EQ(parts->updater->Counters().events_applied, 4u);  // the snapshot only
  }
  auto parts = Open();
  ASSERT_TRUE(parts);
  absl::StatusOr<Recovered> r = Recover(*parts);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->next_seq, 11u);
  ExpectTrainedOn(parts->updater->model(), {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
}


// A DNN in batches of 8.
model::ModelConfig DnnConfig() {
  model::ModelConfig c = model::DefaultModelConfig(model::ModelKind::kDnn);
  c.hash_bits = 8;
  c.dnn.embedding_dim = 4;
  c.dnn.hidden = {6, 3};
  c.dnn.batch_size = 8;
  return c;
}

std::vector<std::vector<float>> Tables(model::Model& m) {
  std::vector<std::vector<float>> out;
  for (const model::StateTable& t : m.StateTables()) out.push_back(t.table->values());
  return out;
}

// Issue 9: the live server flushed a partial batch of events 1..5 at a marker (seq 6) and
// persisted there, then trained events 7..20 (a full batch of 7..14, then 6 pending) and
// was killed. Recovery restores the flushed checkpoint and replays the rest; a start from
// snapshot 0 replays the whole log, cutting the partial batch at the marker. Both hold the
// parameters of an uninterrupted run bit for bit, the same pending events, counters that
// count the marker in last_seq only, and a de-duplication window where the marker is an
// entry without an id.
TEST_F(RecoveryTest, ADnnKilledAfterAFlushedPartialBatchRecoversBitForBit) {
  std::vector<model::Example> events(21);
  std::vector<std::string> ids(21);
  for (uint64_t i = 1; i <= 20; ++i) {
    events[i] = Ex(i);
    ids[i] = "e" + std::to_string(i);
  }
  auto log_all = [&](Parts& parts) {
    storage::EventLog& log = parts.persistence->log();
    std::vector<storage::LogEntry> first;
    for (uint64_t i = 1; i <= 5; ++i) first.push_back({&events[i], &ids[i]});
    first.push_back(storage::LogEntry::FlushMarker());
    EXPECT_EQ(*log.Append(first, {}), 1u);
    for (uint64_t i = 7; i <= 20; ++i) EXPECT_EQ(*log.Append({{&events[i], &ids[i]}}, {}), i);
  };
  testing::TempDir scratch;  // the same log, with snapshot 0 only
  {
    auto parts = Open(false, DnnConfig());
    ASSERT_TRUE(parts && Recover(*parts).ok());
    log_all(*parts);
    core::EventBatch batch;  // what the live server trained before its checkpoint
    batch.first_seq = 1;
    for (uint64_t i = 1; i <= 5; ++i) batch.examples.push_back(events[i]);
    parts->updater->Replay(batch);
    core::EventBatch marker;
    marker.flush = true;
    marker.first_seq = 6;
    parts->updater->Replay(marker);
    ASSERT_TRUE(parts->updater->PersistAndWait().ok());
    std::vector<storage::SnapshotInfo> snapshots = parts->persistence->store().List();
    EXPECT_EQ(snapshots.back().meta.last_seq, 6u);
    EXPECT_EQ(snapshots.back().meta.events_applied, 5u);
    auto other = Open(false, DnnConfig(), scratch.path());
    ASSERT_TRUE(other && Recover(*other).ok());
    log_all(*other);
  }  // killed: no final checkpoint

  auto uninterrupted = *model::CreateModel(DnnConfig());
  for (uint64_t i = 1; i <= 5; ++i) uninterrupted->Train(events[i]);
  ASSERT_TRUE(uninterrupted->FlushPending());
  for (uint64_t i = 7; i <= 20; ++i) uninterrupted->Train(events[i]);
  ASSERT_EQ(uninterrupted->pending_events(), 6u);
  ASSERT_EQ(uninterrupted->optimizer_step(), 2u);

  for (const std::string& dir : {dir_.path(), scratch.path()}) {
    SCOPED_TRACE(dir);
    auto parts = Open(false, DnnConfig(), dir);
    ASSERT_TRUE(parts);
    absl::StatusOr<Recovered> r = Recover(*parts, /*window=*/16);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->next_seq, 21u);
    std::vector<std::string> window;
    for (uint64_t i = 5; i <= 20; ++i) window.push_back(i == 6 ? "" : ids[i]);
    EXPECT_EQ(r->recent_ids, window);
    const core::UpdaterStats stats = parts->updater->Counters();
    EXPECT_EQ(stats.last_seq, 20u);
    EXPECT_EQ(stats.events_applied, 19u);
    model::Model& m = parts->updater->model();
    EXPECT_EQ(m.pending_events(), 6u);
    EXPECT_EQ(m.optimizer_step(), 2u);
    EXPECT_TRUE(Tables(m) == Tables(*uninterrupted));
    // The pending events were replayed into the same partial batch: the next two events
    // complete it, and it stays identical. (The updater has the model defer its
    // predictions to the batch's end; here each is compared as Train returns it.)
    m.DeferPredictions(false);
    for (uint64_t i = 1; i <= 2; ++i) {
      model::Example e = Ex(100 + i);
      EXPECT_EQ(m.Train(e).prediction, uninterrupted->Train(e).prediction);
    }
    EXPECT_EQ(m.pending_events(), 0u);
    EXPECT_TRUE(Tables(m) == Tables(*uninterrupted));
    uninterrupted = *model::CreateModel(DnnConfig());  // rebuilt for the next dir
    for (uint64_t i = 1; i <= 5; ++i) uninterrupted->Train(events[i]);
    uninterrupted->FlushPending();
    for (uint64_t i = 7; i <= 20; ++i) uninterrupted->Train(events[i]);
  }
}

}  // namespace
}  // namespace streamrec::server
