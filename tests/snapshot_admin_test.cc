// ServerCore's snapshot administration through a real gRPC server (server/snapshot_admin.cc,
// server/admin_service.cc): save, rollback, export and import, and how each fails: unknown
// versions, corrupt snapshots (the serving model is untouched), hostile or foreign files,
// a full disk during an import, too many streams.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include "storage/config_codec.h"
#include "storage/database.h"
#include "storage/encoding.h"
#include "storage/snapshot_codec.h"
#include "storage/snapshot_export.h"
#include "storage/snapshot_store.h"
#include "tests/testing/fault_fs.h"
#include "tests/testing/server_fixture.h"
#include "tests/testing/temp_dir.h"

namespace streamrec {
namespace {

using testing::MakeEvent;
using testing::SetCategory;

class SnapshotAdminTest : public testing::ServerFixture {
 protected:
  void SetUp() override {}
  server::ServerOptions Options(const std::string& dir) {
    server::ServerOptions o = testing::TestServerOptions();
    o.core.storage.data_dir = dir;
    o.core.storage.file_system = fs_;
    o.core.storage.recovery_interval = std::chrono::milliseconds(20);
    o.core.updater.persist_interval_ms = 0;
    return o;
  }
  void Train(const std::string& user, const std::string& item, int n, double label) {
    v1::ObserveRequest req;
    for (int i = 0; i < n; ++i) *req.add_events() = MakeEvent(user, item, label);
    ASSERT_TRUE(Observe(req).ok());
  }
  double Score(const std::string& user, const std::string& item, uint64_t* version = nullptr) {
    v1::PredictRequest req;
    SetCategory(req.mutable_context(), "user", user);
    req.add_candidates()->set_id(item);
    v1::PredictResponse resp;
    EXPECT_TRUE(Predict(req, &resp).ok());
    if (version) *version = resp.model_version();
    return resp.items(0).score();
  }
  uint64_t Save() {
    v1::SaveSnapshotResponse resp;
    grpc::Status s = admin_->SaveSnapshot(Ctx().get(), v1::SaveSnapshotRequest(), &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.model_version();
  }
  // WaitTrained: until the served snapshot holds every accepted event but `pending` (a
  // mini-batch model's events not yet applied, which a snapshot does not count).
  void WaitTrained(uint64_t pending = 0) {
    const uint64_t accepted = Stats().events_accepted();
    ASSERT_TRUE(WaitApplied(accepted - pending));
  }
  grpc::Status Rollback(std::optional<uint64_t> version, uint64_t* now = nullptr) {
    v1::RollbackRequest req;
    if (version) req.set_model_version(*version);
    v1::RollbackResponse resp;
    grpc::Status s = admin_->Rollback(Ctx().get(), req, &resp);
    if (now) *now = resp.model_version();
    return s;
  }
  // Export: `version`, or none to save now and export that.
  grpc::Status Export(std::optional<uint64_t> version, std::string& file) {
    v1::ExportSnapshotRequest req;
    if (version) req.set_model_version(*version);
    auto ctx = Ctx();
    auto reader = admin_->ExportSnapshot(ctx.get(), req);
    v1::SnapshotData piece;
    file.clear();
    while (reader->Read(&piece)) {
      EXPECT_LE(piece.data().size(), (1u << 20) + 1024);  // pieces, not one message
      file += piece.data();
    }
    return reader->Finish();
  }
  grpc::Status Import(const std::string& file, uint64_t* version = nullptr,
                      size_t piece_bytes = 1 << 16) {
    auto ctx = Ctx();
    v1::ImportSnapshotResponse resp;
    auto writer = admin_->ImportSnapshot(ctx.get(), &resp);
    for (size_t i = 0; i < file.size(); i += piece_bytes) {
      v1::SnapshotData piece;
      piece.set_data(file.substr(i, piece_bytes));
      if (!writer->Write(piece)) break;
    }
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    if (version) *version = resp.model_version();
    return s;
  }

  std::shared_ptr<testing::FaultFs> fs_ = std::make_shared<testing::FaultFs>();
  testing::TempDir dir_;
};

TEST_F(SnapshotAdminTest, SaveAndRollbackServeTheOldContentUnderANewVersion) {
  StartServer(Options(dir_.path()));
  Train("u", "a", 200, 1);
  WaitTrained();
  const uint64_t saved = Save();
  const double at_save = Score("u", "a");
  Train("u", "a", 300, 0);
  WaitTrained();
  ASSERT_NE(Score("u", "a"), at_save);
  uint64_t now = 0;
  ASSERT_TRUE(Rollback(saved, &now).ok());
  uint64_t served = 0;
  EXPECT_EQ(Score("u", "a", &served), at_save);
  EXPECT_GT(now, saved);
  EXPECT_EQ(served, now);
  // Failure modes: an unknown version is NOT_FOUND and changes nothing; none is invalid.
  EXPECT_EQ(Rollback(987654).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Rollback(std::nullopt).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Score("u", "a"), at_save);
  // The rollback was persisted: a restart serves it.
  server_.reset();
  StartServer(Options(dir_.path()));
  EXPECT_EQ(Score("u", "a", &served), at_save);
  EXPECT_GE(served, now);
}

// A DNN rolled back while it holds pending events (trained, not yet applied) drops them:
// it continues exactly as a model that trained only up to the saved snapshot.
TEST_F(SnapshotAdminTest, DnnRollbackDropsThePendingEvents) {
  server::ServerOptions o = Options(dir_.path());
  o.core.model = model::DefaultModelConfig(model::ModelKind::kDnn);
  o.core.model.hash_bits = 10;
  o.core.model.dnn.hidden = {8, 4};
  o.core.model.dnn.batch_size = 100;
  o.core.model.dnn.fields = {"user"};
  o.core.updater.flush_partial_batch_ms = 0;  // the 50 stay pending, however slow the test
  StartServer(o);
  Train("u", "a", 200, 1);
  WaitTrained();
  const uint64_t saved = Save();
  const double at_save = Score("u", "a");
  Train("u", "a", 150, 0);  // one batch applied, 50 events pending
  WaitTrained(50);
  ASSERT_NE(Score("u", "a"), at_save);
  ASSERT_TRUE(Rollback(saved).ok());
  EXPECT_EQ(Score("u", "a"), at_save);
  Train("u", "b", 100, 1);
  WaitTrained();
  const double after = Score("u", "b");
  server_.reset();
  testing::TempDir other;
  server::ServerOptions fresh = o;
  fresh.core.storage.data_dir = other.path();
  StartServer(fresh);
  Train("u", "a", 200, 1);
  WaitTrained();
  Train("u", "b", 100, 1);
  WaitTrained();
  EXPECT_EQ(Score("u", "b"), after);
}

// Snapshot 0, the untrained model of a new data dir, is a version like any other: it can
// be rolled back to and exported while retained.
TEST_F(SnapshotAdminTest, SnapshotZeroIsTheUntrainedModel) {
  StartServer(Options(dir_.path()));
  Train("u", "a", 200, 1);
  WaitTrained();
  ASSERT_GT(Score("u", "a"), 0.6);
  std::string zero;
  ASSERT_TRUE(Export(0, zero).ok());
  uint64_t now = 0;
  ASSERT_TRUE(Rollback(0, &now).ok());
  EXPECT_GT(now, 0u);
  EXPECT_EQ(Score("u", "a"), 0.5);
  Train("u", "a", 200, 1);
  WaitTrained();
  ASSERT_TRUE(Import(zero).ok());
  EXPECT_EQ(Score("u", "a"), 0.5);
}

TEST_F(SnapshotAdminTest, RollbackToACorruptSnapshotLeavesTheServingModelUntouched) {
  StartServer(Options(dir_.path()));
  Train("old", "x", 200, 1);
  WaitTrained();
  const uint64_t old_version = Save();
  for (int u = 0; u < 50; ++u) Train("user" + std::to_string(u), "y", 20, 0);
  WaitTrained();
  Save();
  server_.reset();
  {  // Offline: corrupt a chunk that only the old snapshot references.
    auto db = storage::Database::Open(dir_.path());
    ASSERT_TRUE(db.ok());
    storage::SnapshotStoreOptions options;
    options.sweep_on_open = false;
    storage::SnapshotStore store(db->get(), options);
    ASSERT_TRUE(store.Open().ok());
    auto old_manifest = store.Find(old_version);
    ASSERT_TRUE(old_manifest.ok());
    const storage::TableManifest& weights = old_manifest->tables[0];
    size_t c = 0;
    while (c < weights.chunk_versions.size() && weights.chunk_versions[c] != old_version) ++c;
    ASSERT_LT(c, weights.chunk_versions.size());
    const std::string key = storage::ChunkKey("weights", static_cast<uint32_t>(c), old_version);
    auto value = (*db)->Get(storage::Family::kChunks, key);
    ASSERT_TRUE(value.ok() && value->has_value());
    std::string bad = **value;
    bad[5] ^= 0x40;
    rocksdb::WriteBatch batch;
    (*db)->Put(batch, storage::Family::kChunks, key, bad);
    ASSERT_TRUE((*db)->Write(batch, true).ok());
  }
  StartServer(Options(dir_.path()));
  const double before = Score("user3", "y");
  grpc::Status s = Rollback(old_version);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DATA_LOSS) << s.error_message();
  EXPECT_EQ(Score("user3", "y"), before);  // verified before anything was loaded
  Train("user3", "y", 10, 1);  // and training goes on
  WaitTrained();
}

TEST_F(SnapshotAdminTest, ExportImportMovesAModelBetweenServers) {
  StartServer(Options(dir_.path()));
  Train("u", "a", 300, 1);
  Train("v", "b", 300, 0);
  WaitTrained();
  std::string file;
  ASSERT_TRUE(Export(std::nullopt, file).ok());  // none: save now and export that
  EXPECT_GT(file.size(), 3u * ((1u << 18) + 1) * 4);  // every table, in full
  const double a = Score("u", "a"), b = Score("v", "b");
  std::string unknown;
  EXPECT_EQ(Export(424242, unknown).error_code(), grpc::StatusCode::NOT_FOUND);
  server_.reset();

  testing::TempDir other;
  StartServer(Options(other.path()));
  Train("w", "c", 50, 1);  // the receiving server has a model of its own
  WaitTrained();
  uint64_t before_version = 0;
  Score("w", "c", &before_version);
  uint64_t imported = 0;
  ASSERT_TRUE(Import(file, &imported).ok());
  EXPECT_GT(imported, before_version);
  EXPECT_EQ(Score("u", "a"), a);
  EXPECT_EQ(Score("v", "b"), b);
  // Persisted: a restart serves the imported content.
  server_.reset();
  StartServer(Options(other.path()));
  EXPECT_EQ(Score("u", "a"), a);
  server_.reset();
}

TEST_F(SnapshotAdminTest, BadImportsAreRefusedAndTheModelKeepsServing) {
  StartServer(Options(dir_.path()));
  Train("u", "a", 100, 1);
  WaitTrained();
  std::string file;
  ASSERT_TRUE(Export(std::nullopt, file).ok());
  const double score = Score("u", "a");
  grpc::Status s;
  EXPECT_EQ(Import("hello, this is not a snapshot").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Import(file.substr(0, file.size() / 2)).error_code(), grpc::StatusCode::DATA_LOSS);
  std::string flipped = file;
  flipped[file.size() / 3] ^= 1;
  EXPECT_EQ(Import(flipped).error_code(), grpc::StatusCode::DATA_LOSS);
  // A 125 KB file claiming 2^32 floats for a table (before the fix: bad_alloc, SIGABRT).
  std::string hostile(storage::kExportMagic);
  storage::PutMeta(hostile, storage::SnapshotMeta{});
  storage::PutString(hostile, storage::EncodeConfig(server_->core().options().model));
  storage::PutMetrics(hostile, model::StreamMetrics::State{});
  storage::PutU32(hostile, 3);
  storage::PutString(hostile, "weights");
  storage::PutU64(hostile, uint64_t{1} << 32);
  hostile += std::string(125000, '\1');
  s = Import(hostile);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_EQ(Score("u", "a"), score);
  server_.reset();
  // Another model's export.
  testing::TempDir other;
  server::ServerOptions o = Options(other.path());
  o.core.model.hash_bits = 12;
  StartServer(o);
  s = Import(file);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_NE(s.error_message().find("hash_bits"), std::string::npos);
  server_.reset();
}

TEST_F(SnapshotAdminTest, ImportOnAFullDiskFailsCleanlyAndLeavesNoOrphans) {
  StartServer(Options(dir_.path()));
  Train("u", "a", 100, 1);
  WaitTrained();
  std::string file;
  ASSERT_TRUE(Export(std::nullopt, file).ok());
  const double score = Score("u", "a");
  fs_->FailWritesAfter(2);
  grpc::Status s = Import(file);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  fs_->FailWrites(false);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!Stats().storage_writable() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(Score("u", "a"), score);
  uint64_t v = 0;
  ASSERT_TRUE(Import(file, &v).ok());  // works once the disk does
  EXPECT_EQ(Score("u", "a"), score);
  server_.reset();
  // Every chunk left is referenced by a snapshot.
  auto db = storage::Database::Open(dir_.path());
  ASSERT_TRUE(db.ok());
  storage::SnapshotStoreOptions options;
  options.sweep_on_open = false;
  options.retain = 1000;
  storage::SnapshotStore store(db->get(), options);
  ASSERT_TRUE(store.Open().ok());
  absl::StatusOr<uint64_t> orphans = store.Sweep();
  ASSERT_TRUE(orphans.ok());
  EXPECT_EQ(*orphans, 0u);
}

// A swap that cannot write its snapshot changes nothing: the error is the whole truth
// (before, an import whose persist failed answered UNAVAILABLE while already serving).
TEST_F(SnapshotAdminTest, ASwapThatCannotBeWrittenChangesNothing) {
  std::atomic<bool> fail_manifests{false};
  server::ServerOptions o = Options(dir_.path());
  auto fs = fs_;
  o.core.storage.testing_before_manifest = [&fail_manifests, fs] {
    if (fail_manifests.load()) fs->FailWrites(true);  // the disk fills before the manifest
  };
  StartServer(o);
  std::string empty;
  ASSERT_TRUE(Export(std::nullopt, empty).ok());  // the untrained model
  Train("u", "a", 200, 1);
  WaitTrained();
  const uint64_t saved = Save();
  Train("u", "a", 200, 0);
  WaitTrained();
  uint64_t version_before = 0;
  const double score = Score("u", "a", &version_before);
  fail_manifests = true;
  grpc::Status s = Import(empty);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  uint64_t version_after = 0;
  EXPECT_EQ(Score("u", "a", &version_after), score);
  EXPECT_EQ(version_after, version_before);
  fs_->FailWrites(false);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!Stats().storage_writable() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(Rollback(saved).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Score("u", "a"), score);
  fail_manifests = false;
  fs_->FailWrites(false);
  while (!Stats().storage_writable() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(Import(empty).ok());
  EXPECT_EQ(Score("u", "a"), 0.5);
}

TEST_F(SnapshotAdminTest, AdminStreamsAreLimited) {
  server::ServerOptions o = Options(dir_.path());
  o.core.max_admin_streams = 1;
  // An export far larger than what flow control lets the server send ahead (48 MiB), so
  // the first stream stays open while the test reads only its first piece.
  o.core.model.hash_bits = 22;
  StartServer(o);
  Train("u", "a", 100, 1);
  WaitTrained();
  const uint64_t v = Save();
  // The first export is open (one piece read, the rest waits for the reader).
  v1::ExportSnapshotRequest req;
  req.set_model_version(v);
  auto ctx = Ctx();
  auto open = admin_->ExportSnapshot(ctx.get(), req);
  v1::SnapshotData piece;
  ASSERT_TRUE(open->Read(&piece));
  std::string file;
  grpc::Status s = Export(v, file);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_NE(s.error_message().find("--max_admin_streams"), std::string::npos);
  while (open->Read(&piece)) {
  }
  EXPECT_TRUE(open->Finish().ok());
  // Free again once the server has closed the first stream (just after its status).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!(s = Export(v, file)).ok() && s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(s.ok()) << s.error_message();
}

}  // namespace
}  // namespace streamrec
