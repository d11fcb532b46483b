// SnapshotStore on a real RocksDB: incremental persistence, exact restore, checksums,
// retention, unfinished snapshots, export/import.
#include "storage/snapshot_store.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <limits>
#include <thread>

#include "model/hash.h"
#include "model/linear_model.h"
#include "storage/config_codec.h"
#include "storage/encoding.h"
#include "storage/snapshot_export.h"
#include "tests/testing/fault_fs.h"
#include "tests/testing/temp_dir.h"

namespace streamrec::storage {
namespace {

model::ModelConfig Config(model::OptimizerKind kind = model::OptimizerKind::kFtrl) {
  model::ModelConfig c;
  c.hash_bits = 16;
  c.optimizer = model::DefaultOptimizerConfig(kind);
  c.optimizer.normalized = false;  // the table counts below: weights and two FTRL slots
  return c;
}

void Train(model::Model& m, int n, int seed) {
  for (int i = 0; i < n; ++i) {
    m.Train({{{model::HashCategory(model::HashName("item"), std::to_string((i * seed) % 500)),
                1.0f}},
             static_cast<float>(i % 2), 1.0f, 0});
  }
}

bool SameState(model::Model& a, model::Model& b) {
  auto x = a.StateTables(), y = b.StateTables();
  if (x.size() != y.size()) return false;
  for (size_t t = 0; t < x.size(); ++t) {
    if (std::memcmp(x[t].table->values().data(), y[t].table->values().data(),
                    x[t].table->size() * sizeof(float)) != 0) {
      return false;
    }
  }
  return a.optimizer_step() == b.optimizer_step();
}

// Import: an export file through an ImportSession (in pieces of 1000 bytes, as a stream
// would deliver it), swapped into `model` as the server does (verify, write the swap's
// snapshot under version 1000 + the file's, load).
absl::StatusOr<RestoredState> Import(SnapshotStore& store, std::string_view file,
                                     model::Model& model, size_t piece = 1000) {
  ImportSession session(&store, ImportTarget::Of(model));
  for (size_t i = 0; i < file.size(); i += piece) {
    if (absl::Status s = session.Feed(file.substr(i, piece)); !s.ok()) return s;
  }
  absl::StatusOr<Manifest> staged = session.Finish();
  if (!staged.ok()) return staged.status();
  if (absl::Status s = store.Verify(*staged, model); !s.ok()) return s;
  SnapshotMeta meta = staged->meta;
  meta.version += 1000;
  if (auto w = store.WriteSwap(*staged, meta, staged->metrics); !w.ok()) return w.status();
  absl::StatusOr<RestoredState> r = store.LoadSwapped(*staged, model);
  if (r.ok()) r->meta = staged->meta;  // the file's own meta, as before
  return r;
}

SnapshotMeta Meta(uint64_t version, uint64_t last_seq) {
  SnapshotMeta m;
  m.version = version;
  m.last_seq = last_seq;
  m.events_applied = last_seq;
  return m;
}

TEST(SnapshotStoreTest, RestoresExactlyIncludingOptimizerStateAndMetrics) {
  for (auto kind : {model::OptimizerKind::kAdam, model::OptimizerKind::kFtrl,
                    model::OptimizerKind::kAdagrad}) {
    testing::TempDir dir;
    auto db = Database::Open(dir.path());
    SnapshotStore store(db->get(), 5);
    ASSERT_TRUE(store.Open().ok());
    model::LinearModel m(Config(kind));
    Train(m, 1000, 7);
    model::StreamMetrics metrics(10);
    metrics.Add(0.7, 1, 1);
    ASSERT_TRUE(store.Persist(m, Meta(3, 1000), metrics.ExportState()).ok());

    SnapshotStore reopened(db->get(), 5);
    ASSERT_TRUE(reopened.Open().ok());
    model::LinearModel restored(Config(kind));
    auto r = reopened.RestoreNewest(restored);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->meta.version, 3u);
    EXPECT_EQ(r->meta.last_seq, 1000u);
    EXPECT_EQ(r->metrics.overall.events, 1u);
    EXPECT_TRUE(SameState(m, restored)) << model::OptimizerName(kind);
    // Both continue identically.
    Train(m, 100, 3);
    Train(restored, 100, 3);
    EXPECT_TRUE(SameState(m, restored));
  }
}

TEST(SnapshotStoreTest, PersistWritesOnlyChangedChunks) {
  testing::TempDir dir;
  auto db = Database::Open(dir.path());
  SnapshotStore store(db->get(), 5);
  ASSERT_TRUE(store.Open().ok());
  model::LinearModel m(Config());
  Train(m, 5000, 13);
  auto full = store.Persist(m, Meta(1, 5000), {});
  ASSERT_TRUE(full.ok());
  // One more example touches one row (+ bias) in weights and both FTRL slots.
  Train(m, 1, 1);
  auto few = store.Persist(m, Meta(2, 5001), {});
  ASSERT_TRUE(few.ok());
  EXPECT_LT(*few * 20, *full) << "few " << *few << " full " << *full;
  // Nothing changed: only the manifest.
  auto none = store.Persist(m, Meta(3, 5001), {});
  ASSERT_TRUE(none.ok());
  EXPECT_LT(*none, *few);
  model::LinearModel restored(Config());
  ASSERT_TRUE(store.Restore(2, restored).ok());
  EXPECT_TRUE(SameState(m, restored));
}

// A capture right after a publication shares the published weights' immutable chunks
// (no copy: the first, full capture of a large model copied every chunk) and seals them
// when written; the restored state is the same. With changes since the publication
// nothing is shared.
TEST(SnapshotStoreTest, CaptureSharesThePublishedWeights) {
  testing::TempDir dir;
  auto db = Database::Open(dir.path());
  SnapshotStore store(db->get(), 10);
  ASSERT_TRUE(store.Open().ok());
  model::LinearModel m(Config());
  Train(m, 300, 3);
  const std::shared_ptr<const model::Snapshot> published = m.Publish(1, 300, nullptr);
  auto count_shared = [](const SnapshotStore::Pending& p) {
    size_t shared = 0;
    for (const SnapshotStore::CapturedChunk& c : p.chunks) shared += c.shared != nullptr;
    return shared;
  };
  SnapshotStore::Pending a = store.Capture(m, Meta(1, 300), {});
  EXPECT_GT(count_shared(a), 0u);               // the weights' changed chunks
  EXPECT_LT(count_shared(a), a.chunks.size());  // the optimizer's slots are copied
  ASSERT_TRUE(store.Write(std::move(a)).ok());
  model::LinearModel restored(Config());
  ASSERT_TRUE(store.Restore(1, restored).ok());
  EXPECT_TRUE(SameState(m, restored));
  Train(m, 10, 5);  // not published: the weights differ from the published copy
  SnapshotStore::Pending b = store.Capture(m, Meta(2, 310), {});
  EXPECT_EQ(count_shared(b), 0u);
  EXPECT_GT(b.chunks.size(), 0u);
  ASSERT_TRUE(store.Write(std::move(b)).ok());
  model::LinearModel restored2(Config());
  ASSERT_TRUE(store.Restore(2, restored2).ok());
  EXPECT_TRUE(SameState(m, restored2));
}

TEST(SnapshotStoreTest, FailedWriteDropsOlderCapturesAndForcesAFullOne) {
  testing::TempDir dir;
  auto fs = std::make_shared<testing::FaultFs>();
  auto db = Database::Open(DatabaseOptions{dir.path(), fs});
  SnapshotStore store(db->get(), 10);
  ASSERT_TRUE(store.Open().ok());
  model::LinearModel m(Config());
  Train(m, 300, 3);
  ASSERT_TRUE(store.Persist(m, Meta(1, 300), {}).ok());
  Train(m, 10, 5);
  SnapshotStore::Pending a = store.Capture(m, Meta(2, 310), {});
  Train(m, 10, 7);
  SnapshotStore::Pending b = store.Capture(m, Meta(3, 320), {});
  const size_t all_chunks = 3 * m.StateTables()[0].table->num_chunks();
  EXPECT_LT(b.chunks.size(), all_chunks);  // incremental
  fs->FailWrites(true);
  EXPECT_FALSE(store.Write(std::move(a)).ok());
  fs->FailWrites(false);
  ASSERT_TRUE((*db)->TryRecover().ok());
  // b names chunks that a should have written: it must not become a snapshot.
  EXPECT_EQ(store.Write(std::move(b)).status().code(), absl::StatusCode::kAborted);
  // The next capture is complete, so it stands on its own.
  SnapshotStore::Pending c = store.Capture(m, Meta(4, 320), {});
  EXPECT_EQ(c.chunks.size(), all_chunks);
  ASSERT_TRUE(store.Write(std::move(c)).ok());
  ASSERT_EQ(store.List().size(), 2u);  // versions 1 and 4
  model::LinearModel restored(Config());
  ASSERT_TRUE(store.Restore(4, restored).ok());
  EXPECT_TRUE(SameState(m, restored));
}

TEST(SnapshotStoreTest, UnfinishedSnapshotIsInvisibleAndCleanedUp) {
  testing::TempDir dir;
  model::LinearModel m(Config());
  {
    auto db = Database::Open(dir.path());
    SnapshotStore store(db->get(), 5);
    ASSERT_TRUE(store.Open().ok());
    Train(m, 100, 3);
    ASSERT_TRUE(store.Persist(m, Meta(1, 100), {}).ok());
  }
  model::LinearModel later(Config());
  {
    auto db = Database::Open(dir.path());
    SnapshotStore store(db->get(), 5);
    ASSERT_TRUE(store.Open().ok());
    ASSERT_TRUE(store.RestoreNewest(later).ok());
    Train(later, 100, 5);
    // "Crash" between the chunks and the manifest: fail the manifest write by closing
    // the database underneath is not possible, so abandon the store instead.
    struct Abort {};
    try {
      (void)store.Persist(later, Meta(2, 200), {}, [] { throw Abort(); });
    } catch (const Abort&) {
    }
  }
  auto db = Database::Open(dir.path());
  SnapshotStore store(db->get(), 5);
  ASSERT_TRUE(store.Open().ok());
  ASSERT_EQ(store.List().size(), 1u);
  model::LinearModel restored(Config());
  auto r = store.RestoreNewest(restored);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->meta.version, 1u);
  EXPECT_TRUE(SameState(m, restored));
  // The orphan chunks of version 2 are gone.
  std::unique_ptr<rocksdb::Iterator> it = (*db)->NewIterator(Family::kChunks);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view key = it->key().ToStringView();
    EXPECT_LE(DecodeBigEndianKey(key.substr(key.size() - 8)), 1u);
  }
}

TEST(SnapshotStoreTest, CorruptChunkFallsBackToOlderSnapshot) {
  testing::TempDir dir;
  auto db = Database::Open(dir.path());
  SnapshotStore store(db->get(), 5);
  ASSERT_TRUE(store.Open().ok());
  model::LinearModel m(Config());
  Train(m, 100, 3);
  ASSERT_TRUE(store.Persist(m, Meta(1, 100), {}).ok());
  model::LinearModel at_v1(Config());
  ASSERT_TRUE(store.Restore(1, at_v1).ok());
  Train(m, 100, 7);
  ASSERT_TRUE(store.Persist(m, Meta(2, 200), {}).ok());
  // Flip a byte in every chunk written by version 2.
  std::unique_ptr<rocksdb::Iterator> it = (*db)->NewIterator(Family::kChunks);
  rocksdb::WriteBatch corrupt;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view key = it->key().ToStringView();
    if (DecodeBigEndianKey(key.substr(key.size() - 8)) != 2) continue;
    std::string value = it->value().ToString();
    value[0] ^= 0x55;
    (*db)->Put(corrupt, Family::kChunks, it->key().ToStringView(), value);
  }
  ASSERT_TRUE((*db)->Write(corrupt, false).ok());
  model::LinearModel restored(Config());
  auto r = store.RestoreNewest(restored);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->meta.version, 1u);
  model::LinearModel fresh(Config());
  ASSERT_TRUE(store.Restore(1, fresh).ok());
  EXPECT_TRUE(SameState(fresh, at_v1));
  EXPECT_EQ(store.Restore(2, fresh).status().code(), absl::StatusCode::kDataLoss);
}

// Hostile pass: a manifest whose tables do not fit the model (a lying size, a missing
// table) refused the whole start without naming the snapshot; it is damage like a bad
// chunk: the start falls back to an older snapshot, and a rollback to it is DataLoss.
TEST(SnapshotStoreTest, ManifestWhoseTablesDoNotFitFallsBackToOlderSnapshot) {
  for (int damage = 0; damage < 2; ++damage) {
    testing::TempDir dir;
    auto db = Database::Open(dir.path());
    model::LinearModel m(Config());
    model::LinearModel at_v1(Config());
    {
      SnapshotStore store(db->get(), 5);
      ASSERT_TRUE(store.Open().ok());
      Train(m, 100, 3);
      ASSERT_TRUE(store.Persist(m, Meta(1, 100), {}).ok());
      ASSERT_TRUE(store.Restore(1, at_v1).ok());
      Train(m, 100, 7);
      ASSERT_TRUE(store.Persist(m, Meta(2, 200), {}).ok());
      absl::StatusOr<Manifest> two = store.Find(2);
      ASSERT_TRUE(two.ok());
      if (damage == 0) {
        two->tables[0].size += 1;
      } else {
        two->tables.pop_back();
      }
      rocksdb::WriteBatch batch;
      (*db)->Put(batch, Family::kSnapshots, BigEndianKey(2), EncodeManifest(*two));
      ASSERT_TRUE((*db)->Write(batch, true).ok());
    }
    SnapshotStore store(db->get(), 5);
    ASSERT_TRUE(store.Open().ok());
    model::LinearModel restored(Config());
    auto r = store.RestoreNewest(restored);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->meta.version, 1u);
    EXPECT_TRUE(SameState(restored, at_v1));
    absl::Status s = store.Restore(2, restored).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(s.message().rfind("snapshot 2: ", 0), 0u) << s;
  }
}

TEST(SnapshotStoreTest, RetentionKeepsNewestAndChunksTheyShare) {
  testing::TempDir dir;
  auto db = Database::Open(dir.path());
  SnapshotStore store(db->get(), 2);
  ASSERT_TRUE(store.Open().ok());
  model::LinearModel m(Config());
  std::vector<std::unique_ptr<model::LinearModel>> expected;
  for (uint64_t v = 1; v <= 5; ++v) {
    Train(m, 50, static_cast<int>(v));
    ASSERT_TRUE(store.Persist(m, Meta(v, v * 50), {}).ok());
  }
  auto list = store.List();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].meta.version, 4u);
  EXPECT_EQ(list[1].meta.version, 5u);
  EXPECT_EQ(store.OldestLastSeq(), 200u);
  model::LinearModel v4(Config()), v5(Config());
  EXPECT_TRUE(store.Restore(4, v4).ok());  // its chunks from versions 1..3 survived
  EXPECT_TRUE(store.Restore(5, v5).ok());
  EXPECT_TRUE(SameState(m, v5));
  EXPECT_EQ(store.Restore(1, v4).status().code(), absl::StatusCode::kNotFound);
}

TEST(SnapshotStoreTest, ExportImportRoundTripAndConfigCheck) {
  testing::TempDir dir;
  auto db = Database::Open(dir.path());
  SnapshotStore store(db->get(), 5);
  ASSERT_TRUE(store.Open().ok());
  model::LinearModel m(Config());
  Train(m, 300, 11);
  ASSERT_TRUE(store.Persist(m, Meta(9, 300), {}).ok());
  auto file = ExportToString(store, 9);
  ASSERT_TRUE(file.ok());
  model::LinearModel imported(Config());
  auto r = Import(store, *file, imported);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->meta.version, 9u);
  EXPECT_TRUE(SameState(m, imported));
  model::ModelConfig other = Config();
  other.hash_bits = 15;
  model::LinearModel wrong(other);
  EXPECT_EQ(Import(store, *file, wrong).status().code(), absl::StatusCode::kFailedPrecondition);
  std::string damaged = *file;
  damaged[damaged.size() / 2] ^= 1;
  EXPECT_EQ(Import(store, damaged, imported).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace streamrec::storage

namespace streamrec::storage {
namespace {

size_t CountChunks(Database& db) {
  size_t n = 0;
  std::unique_ptr<rocksdb::Iterator> it = db.NewIterator(Family::kChunks);
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  return n;
}

// Flips a byte of every value in `family` for which `pick(key)` holds.
void Corrupt(Database& db, Family family, const std::function<bool(std::string_view)>& pick) {
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it = db.NewIterator(family);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!pick(it->key().ToStringView())) continue;
    std::string value = it->value().ToString();
    value[value.size() / 2] ^= 0x55;
    db.Put(batch, family, it->key().ToStringView(), value);
  }
  it.reset();
  ASSERT_TRUE(db.Write(batch, true).ok());
}

bool AllZero(model::Model& m) {
  for (const model::StateTable& t : m.StateTables()) {
    for (float v : t.table->values()) {
      if (v != 0.0f) return false;
    }
  }
  return true;
}

// Issue 7.2: a defect shared by every retained snapshot must not make the server start
// from an empty model as if the data dir were new.
TEST(SnapshotStoreTest, NoSnapshotVerifyingRefusesToStartFromNothing) {
  testing::TempDir dir;
  auto db = Database::Open(dir.path());
  {
    SnapshotStore store(db->get(), 5);
    ASSERT_TRUE(store.Open().ok());
    model::LinearModel m(Config());
    Train(m, 300, 3);
    ASSERT_TRUE(store.Persist(m, Meta(1, 300), {}).ok());
    for (uint64_t v = 2; v <= 3; ++v) {
      Train(m, 1, 1);  // few rows change: most chunks of version 1 stay shared
      ASSERT_TRUE(store.Persist(m, Meta(v, 300 + v), {}).ok());
    }
  }
  Corrupt(**db, Family::kChunks, [](std::string_view key) { return ChunkKeyVersion(key) == 1; });
  SnapshotStore store(db->get(), 5);
  ASSERT_TRUE(store.Open().ok());
  model::LinearModel restored(Config());
  auto r = store.RestoreNewest(restored);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  const std::string message(r.status().message());
  for (const char* v : {"1: ", "2: ", "3: "}) EXPECT_NE(message.find(v), std::string::npos) << message;
  EXPECT_NE(message.find("corrupt"), std::string::npos) << message;
  EXPECT_NE(message.find("--accept_data_loss"), std::string::npos) << message;

  // The operator's explicit choice: start from an empty model (never half-loaded).
  SnapshotStoreOptions accept;
  accept.accept_data_loss = true;
  SnapshotStore accepting(db->get(), accept);
  ASSERT_TRUE(accepting.Open().ok());
  model::LinearModel empty(Config());
  EXPECT_EQ(accepting.RestoreNewest(empty).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(AllZero(empty));
  EXPECT_EQ(accepting.NewestVersion(), 3u);
}

// Issue 7.2: with every manifest unreadable, no chunk may be deleted at Open (they may be
// what a repaired manifest needs), and the start is refused.
TEST(SnapshotStoreTest, UnreadableManifestsKeepEveryChunkAndRefuse) {
  testing::TempDir dir;
  auto db = Database::Open(dir.path());
  {
    SnapshotStore store(db->get(), 5);
    ASSERT_TRUE(store.Open().ok());
    model::LinearModel m(Config());
    Train(m, 300, 3);
    ASSERT_TRUE(store.Persist(m, Meta(1, 300), {}).ok());
    Train(m, 30, 5);
    ASSERT_TRUE(store.Persist(m, Meta(2, 330), {}).ok());
  }
  const size_t chunks = CountChunks(**db);
  ASSERT_GT(chunks, 0u);
  Corrupt(**db, Family::kSnapshots, [](std::string_view) { return true; });
  SnapshotStore store(db->get(), 5);
  ASSERT_TRUE(store.Open().ok());
  EXPECT_EQ(CountChunks(**db), chunks);
  EXPECT_EQ(store.Unreadable().size(), 2u);
  model::LinearModel restored(Config());
  auto r = store.RestoreNewest(restored);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(r.status().message()).find("manifest checksum mismatch"),
            std::string::npos);
  // Accepting the loss deletes the unreadable manifests and then their chunks, and new
  // versions continue above them.
  SnapshotStoreOptions accept;
  accept.accept_data_loss = true;
  SnapshotStore accepting(db->get(), accept);
  ASSERT_TRUE(accepting.Open().ok());
  EXPECT_EQ(CountChunks(**db), 0u);
  EXPECT_EQ(accepting.NewestVersion(), 2u);
  model::LinearModel empty(Config());
  EXPECT_EQ(accepting.RestoreNewest(empty).status().code(), absl::StatusCode::kNotFound);
}

// Issue 7.5: chunks of a snapshot whose manifest write failed, or that failed part way
// through its chunk batches, are swept; after good saves with retention 1 the store
// holds exactly the chunks its one manifest references.
TEST(SnapshotStoreTest, OrphanChunksOfFailedWritesAreSwept) {
  testing::TempDir dir;
  auto fs = std::make_shared<testing::FaultFs>();
  auto db = Database::Open(DatabaseOptions{dir.path(), fs});
  model::ModelConfig config = Config();
  config.hash_bits = 20;  // a full capture spans several 4 MiB batches
  SnapshotStore store(db->get(), 1);
  ASSERT_TRUE(store.Open().ok());
  model::LinearModel m(config);
  Train(m, 2000, 3);
  ASSERT_TRUE(store.Persist(m, Meta(1, 2000), {}).ok());
  // The manifest write fails after every chunk was written.
  Train(m, 500, 7);
  EXPECT_FALSE(store.Persist(m, Meta(2, 2500), {}, [&] { fs->FailWrites(true); }).ok());
  fs->FailWrites(false);
  ASSERT_TRUE((*db)->TryRecover().ok());
  // A full capture (forced by the failure) that fails part way through its batches.
  for (const model::StateTable& t : m.StateTables()) {
    for (size_t c = 0; c < t.table->num_chunks(); ++c) {
      std::vector<float> v(t.table->ChunkData(c), t.table->ChunkData(c) + t.table->ChunkSize(c));
      v[0] += 1.0f;  // every chunk differs from zero: a full, large capture
      t.table->SetChunk(c, v.data(), v.size());
    }
  }
  fs->FailWritesAfter(3);
  EXPECT_FALSE(store.Persist(m, Meta(3, 2500), {}).ok());
  fs->FailWrites(false);
  ASSERT_TRUE((*db)->TryRecover().ok());
  const size_t before_sweep = CountChunks(**db);
  absl::StatusOr<uint64_t> swept = store.Sweep();
  ASSERT_TRUE(swept.ok()) << swept.status();
  EXPECT_GT(*swept, 0u);
  EXPECT_EQ(CountChunks(**db), before_sweep - *swept);
  for (uint64_t v = 4; v <= 8; ++v) {
    Train(m, 50, static_cast<int>(v));
    ASSERT_TRUE(store.Persist(m, Meta(v, 2500 + v), {}).ok());
  }
  auto manifest = store.Find(8);
  ASSERT_TRUE(manifest.ok());
  size_t referenced = 0;
  for (const TableManifest& t : manifest->tables) {
    for (uint64_t v : t.chunk_versions) referenced += v != 0;
  }
  EXPECT_EQ(CountChunks(**db), referenced);
  model::LinearModel restored(config);
  ASSERT_TRUE(store.Restore(8, restored).ok());
  EXPECT_TRUE(SameState(m, restored));
}

// Builds an export file's header up to the table data, as a hostile client might.
std::string Header(const model::ModelConfig& config, uint32_t window_points,
                   uint32_t tables, const std::string& name, uint64_t size) {
  std::string out(kExportMagic);
  PutMeta(out, Meta(5, 10));
  PutString(out, EncodeConfig(config));
  PutU64(out, 0);
  for (int i = 0; i < 5; ++i) PutF64(out, 0);
  PutU32(out, 0);  // bins
  PutU32(out, window_points);
  if (window_points > 1000) return out;  // claims far more than it holds
  for (uint32_t i = 0; i < window_points * 3; ++i) PutF32(out, 0.5f);
  PutU32(out, tables);
  PutString(out, name);
  PutU64(out, size);
  return out;
}

// Issue 7.7: sizes claimed by a file are checked against the receiving model before
// anything is allocated; a small file claiming 2^32 floats or 2^29 window points is an
// error, not an allocation (before the fix: std::bad_alloc and SIGABRT).
TEST(SnapshotStoreTest, HostileImportClaimsAreCheckedBeforeAllocating) {
  testing::TempDir dir;
  auto db = Database::Open(dir.path());
  SnapshotStore store(db->get(), 5);
  ASSERT_TRUE(store.Open().ok());
  model::LinearModel m(Config());
  std::string huge_table = Header(Config(), 0, 3, "weights", uint64_t{1} << 32);
  huge_table += std::string(125000, '\1');
  auto r = Import(store, huge_table, m);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  EXPECT_NE(std::string(r.status().message()).find("4294967296"), std::string::npos);
  std::string huge_window = Header(Config(), 1u << 29, 3, "weights", 0);
  huge_window += std::string(125000, '\0');
  r = Import(store, huge_window, m);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  std::string window_then_eof = Header(Config(), 1u << 26, 3, "weights", 0);
  r = Import(store, window_then_eof, m);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  std::string wrong_tables = Header(Config(), 0, 7, "weights", 0);
  EXPECT_EQ(Import(store, wrong_tables, m).status().code(), absl::StatusCode::kFailedPrecondition);
  std::string not_an_export = "GET / HTTP/1.1\r\n\r\n";
  EXPECT_EQ(Import(store, not_an_export, m).status().code(), absl::StatusCode::kInvalidArgument);
  // A later version of the format is refused naming both versions, in any piece size.
  for (size_t piece : {1, 1000}) {
    const std::string v2 = "STREAMREC-SNAPSHOT-2\n" + std::string(100, '\0');
    r = Import(store, v2, m, piece);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), "the export has format 2; this build reads export format 1");
  }
  std::string config_claim(kExportMagic);
  PutMeta(config_claim, Meta(1, 1));
  PutU32(config_claim, 0xffffffffu);
  EXPECT_EQ(Import(store, config_claim, m).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(AllZero(m));  // nothing reached the model
  // Nothing staged by the failed imports survives a sweep.
  ASSERT_TRUE(store.Sweep().ok());
  EXPECT_EQ(CountChunks(**db), 0u);
}

// Issue 7.8: non-finite values are rejected on import (even with a valid checksum, which
// anyone can compute) and on restore.
TEST(SnapshotStoreTest, NonFiniteValuesAreRejectedOnImportAndRestore) {
  testing::TempDir dir;
  auto db = Database::Open(dir.path());
  SnapshotStore store(db->get(), 5);
  ASSERT_TRUE(store.Open().ok());
  model::LinearModel m(Config());
  Train(m, 300, 11);
  ASSERT_TRUE(store.Persist(m, Meta(9, 300), {}).ok());
  auto file = ExportToString(store, 9);
  ASSERT_TRUE(file.ok());
  // The first weight sits right after the header of table 0.
  const size_t first_weight =
      Header(Config(), 0, 3, "weights", m.StateTables()[0].table->size()).size();
  std::string poisoned = file->substr(0, file->size() - 8);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(&poisoned[first_weight + 4 * 17], &nan, 4);
  Seal(poisoned);
  model::LinearModel target(Config());
  auto r = Import(store, poisoned, target);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_NE(std::string(r.status().message()).find("non-finite"), std::string::npos);
  EXPECT_TRUE(AllZero(target));
  // FTRL's n is a sum of squared gradients: a negative one (finite, valid checksum)
  // would make every later update of its row non-finite.
  const size_t table_bytes = m.StateTables()[0].table->size() * 4;
  const size_t second_header = 4 + std::string("optimizer0").size() + 8;
  const size_t third_header = 4 + std::string("optimizer1").size() + 8;
  const size_t first_n = first_weight + table_bytes + second_header + table_bytes + third_header;
  std::string negative = file->substr(0, file->size() - 8);
  const float minus_one = -1.0f;
  std::memcpy(&negative[first_n + 4 * 3], &minus_one, 4);
  Seal(negative);
  r = Import(store, negative, target);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_NE(std::string(r.status().message()).find("optimizer1"), std::string::npos);
  EXPECT_TRUE(AllZero(target));
  // A stored chunk holding an infinity, with a valid checksum.
  std::string chunk;
  std::vector<float> values(model::kChunkFloats, 1.0f);
  values[3] = std::numeric_limits<float>::infinity();
  PutFloats(chunk, values.data(), values.size());
  Seal(chunk);
  auto manifest = store.Find(9);
  ASSERT_TRUE(manifest.ok());
  size_t c = 0;
  while (manifest->tables[0].chunk_versions[c] == 0) ++c;
  rocksdb::WriteBatch batch;
  (*db)->Put(batch, Family::kChunks, ChunkKey("weights", static_cast<uint32_t>(c), 9), chunk);
  ASSERT_TRUE((*db)->Write(batch, false).ok());
  model::LinearModel restored(Config());
  auto s = store.Restore(9, restored);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(s.status().message()).find("non-finite"), std::string::npos);
}

// Issue 7.13: no RocksDB read happens under the store's mutex: while an export (and a
// restore) is stuck in a slow read, the trainer's Capture proceeds.
TEST(SnapshotStoreTest, CaptureDoesNotWaitForAnExportsReads) {
  testing::TempDir dir;
  auto fs = std::make_shared<testing::FaultFs>();
  model::LinearModel m(Config());
  {
    auto db = Database::Open(DatabaseOptions{dir.path(), fs});
    SnapshotStore store(db->get(), 5);
    ASSERT_TRUE(store.Open().ok());
    Train(m, 300, 11);
    ASSERT_TRUE(store.Persist(m, Meta(1, 300), {}).ok());
  }
  // Reopened, the data sits in table files (recovery flushes the memtables): reads go to
  // the file system.
  auto db = Database::Open(DatabaseOptions{dir.path(), fs});
  SnapshotStoreOptions options;
  options.sweep_on_open = false;  // keeps the block cache cold
  SnapshotStore store(db->get(), options);
  ASSERT_TRUE(store.Open().ok());
  fs->BlockReads(true);
  std::thread exporter([&] { EXPECT_TRUE(ExportToString(store, 1).ok()); });
  std::thread restorer([&] {
    model::LinearModel scratch(Config());
    EXPECT_TRUE(store.Restore(1, scratch, true).ok());
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (fs->blocked_readers() < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_GE(fs->blocked_readers(), 1) << "no read reached the file system";
  Train(m, 10, 5);
  SnapshotStore::Pending p = store.Capture(m, Meta(2, 310), {});  // must not wait
  EXPECT_GT(p.chunks.size(), 0u);
  EXPECT_EQ(store.List().size(), 1u);
  fs->BlockReads(false);
  exporter.join();
  restorer.join();
}

}  // namespace
}  // namespace streamrec::storage
