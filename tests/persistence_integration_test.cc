// A real server with a data dir: a clean restart preserves model_version, weights,
// optimizer state and counters; readiness; durability modes; config compatibility; a
// DNN's partial batches flushed on a quiet stream and at a clean stop (fake clock).
#include <gtest/gtest.h>

#include "tests/testing/fake_clock.h"
#include "tests/testing/server_fixture.h"
#include "tests/testing/temp_dir.h"

namespace streamrec {
namespace {

using testing::MakeEvent;
using testing::SetCategory;

class PersistenceTest : public testing::ServerFixture {
 protected:
  void SetUp() override {}
  server::ServerOptions Options(storage::Durability durability = storage::Durability::kAsync) {
    server::ServerOptions o = testing::TestServerOptions();
    o.core.storage.data_dir = dir_.path();
    o.core.storage.durability = durability;
    return o;
  }
  void Observe(int round) {
    v1::ObserveRequest req;
    for (int i = 0; i < 200; ++i) {
      *req.add_events() = MakeEvent("u" + std::to_string(i % 7), "i" + std::to_string(i % 5),
                                    (i + round) % 3 == 0);
    }
    ASSERT_TRUE(ServerFixture::Observe(req).ok());
  }
  double Score() {
    v1::PredictRequest req;
    SetCategory(req.mutable_context(), "user", "u3");
    req.add_candidates()->set_id("i2");
    v1::PredictResponse resp;
    EXPECT_TRUE(Predict(req, &resp).ok());
    version_ = resp.model_version();
    return resp.items(0).score();
  }
  // A DNN in batches of 64 (rounds of 200 events: 3 batches and 8 pending each).
  server::ServerOptions DnnOptions(storage::Durability durability = storage::Durability::kAsync) {
    server::ServerOptions o = Options(durability);
    o.core.model = model::DefaultModelConfig(model::ModelKind::kDnn);
    o.core.model.hash_bits = 10;
    o.core.model.dnn.hidden = {16, 8};
    o.core.model.dnn.batch_size = 64;
    o.core.model.dnn.fields = {"user"};
    return o;
  }
  // WaitScored: GetStats counts `n` events trained (scored; applied or pending).
  bool WaitScored(uint64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Stats().events_applied() >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
  }
  v1::ModelInfo Info() {
    v1::ModelInfo info;
    EXPECT_TRUE(admin_->GetModelInfo(Ctx().get(), v1::GetModelInfoRequest(), &info).ok());
    return info;
  }
  testing::TempDir dir_;
  uint64_t version_ = 0;
};

TEST_F(PersistenceTest, CleanRestartPreservesEverythingAndContinuesIdentically) {
  server::ServerOptions o = Options();
  o.core.model.optimizer = model::DefaultOptimizerConfig(model::OptimizerKind::kAdam);
  StartServer(o);
  for (int r = 0; r < 5; ++r) Observe(r);
  ASSERT_TRUE(WaitApplied(1000));
  const double before = Score();
  const uint64_t version = version_;
  const v1::Stats stats = Stats();
  const v1::ModelInfo info = Info();
  ASSERT_GT(info.nonzero_parameters(), 0u);
  server_->Shutdown();  // persists a final snapshot

  StartServer(o);
  EXPECT_EQ(Score(), before);  // bit for bit
  EXPECT_EQ(version_, version);
  EXPECT_EQ(Info().nonzero_parameters(), info.nonzero_parameters());  // not 0 until a publish
  const v1::Stats after = Stats();
  EXPECT_EQ(after.events_applied(), 1000u);
  EXPECT_EQ(after.last_seq(), 1000u);
  EXPECT_EQ(after.progressive().events(), stats.progressive().events());
  EXPECT_DOUBLE_EQ(after.progressive().logloss(), stats.progressive().logloss());
  for (int r = 5; r < 8; ++r) Observe(r);
  ASSERT_TRUE(WaitApplied(1600));
  const double continued = Score();
  EXPECT_GT(version_, version);
  server_->Shutdown();

  // A server that never restarted, fed the same events, must agree exactly: the
  // optimizer state (Adam moments, step) survived the restart.
  testing::TempDir other;
  o.core.storage.data_dir = other.path();
  StartServer(o);
  for (int r = 0; r < 8; ++r) Observe(r);
  ASSERT_TRUE(WaitApplied(1600));
  EXPECT_EQ(Score(), continued);
  server_.reset();  // before `other` is removed
}

// Issue 9 section 1: a server started without a model config on an existing data dir
// resumes with the config stored there (so a change of the built-in defaults never
// strands a data dir); a new data dir gets the defaults.
TEST_F(PersistenceTest, NoModelConfigResumesWithTheStoredOne) {
  server::ServerOptions o = Options();
  o.core.model.hash_bits = 12;
  o.core.model.optimizer = model::DefaultOptimizerConfig(model::OptimizerKind::kAdam);
  o.core.model.optimizer.learning_rate = 0.02;
  o.core.model.crosses = {model::Cross{{"user", "item_id"}}};
  StartServer(o);
  for (int r = 0; r < 3; ++r) Observe(r);
  ASSERT_TRUE(WaitApplied(600));
  const double before = Score();
  server_->Shutdown();

  server::ServerOptions defaults = Options();
  defaults.core.model = model::ModelConfig();  // what main passes without --model_config
  defaults.core.model_from_data_dir = true;
  StartServer(defaults);
  const v1::ModelInfo info = Info();
  EXPECT_EQ(info.config().hash_bits(), 12u);
  EXPECT_EQ(info.config().optimizer().kind(), v1::OptimizerConfig::ADAM);
  EXPECT_EQ(info.config().optimizer().learning_rate(), 0.02);
  ASSERT_EQ(info.config().crosses_size(), 1);
  EXPECT_EQ(info.config().crosses(0), "user x item_id");
  EXPECT_EQ(Score(), before);  // the same model, crosses included, bit for bit
  server_.reset();

  testing::TempDir fresh;
  defaults.core.storage.data_dir = fresh.path();
  StartServer(defaults);
  EXPECT_EQ(Info().config().hash_bits(), model::ModelConfig().hash_bits);
  EXPECT_EQ(Info().config().optimizer().kind(), v1::OptimizerConfig::FTRL);
  server_.reset();
}

// Issue 9: a factorization machine is served, trained, persisted and restored bit for
// bit, and continues exactly as a server that never stopped.
TEST_F(PersistenceTest, FactorizationMachineRestartsBitForBit) {
  server::ServerOptions o = Options();
  o.core.model.kind = model::ModelKind::kFm;
  o.core.model.hash_bits = 14;
  o.core.model.fm_factors = 4;
  StartServer(o);
  for (int r = 0; r < 4; ++r) Observe(r);
  ASSERT_TRUE(WaitApplied(800));
  const double before = Score();
  EXPECT_NE(before, 0.5);
  server_->Shutdown();
  StartServer(o);
  EXPECT_EQ(Score(), before);
  EXPECT_EQ(Info().config().kind(), v1::ModelConfig::FM);
  EXPECT_EQ(Info().config().fm_factors(), 4u);
  for (int r = 4; r < 6; ++r) Observe(r);
  ASSERT_TRUE(WaitApplied(1200));
  const double continued = Score();
  server_.reset();
  testing::TempDir other;
  o.core.storage.data_dir = other.path();
  StartServer(o);
  for (int r = 0; r < 6; ++r) Observe(r);
  ASSERT_TRUE(WaitApplied(1200));
  EXPECT_EQ(Score(), continued);
  server_.reset();
}

// The DNN is served, trained, persisted and restored bit for bit, and continues exactly
// as a server that never stopped. Here every stop falls on a batch boundary (batches of
// 100, rounds of 200 events); the next test stops between boundaries.
TEST_F(PersistenceTest, DnnRestartsBitForBitAtBatchBoundaries) {
  server::ServerOptions o = Options();
  o.core.model = model::DefaultModelConfig(model::ModelKind::kDnn);
  o.core.model.hash_bits = 10;
  o.core.model.dnn.hidden = {16, 8};
  o.core.model.dnn.batch_size = 100;
  o.core.model.dnn.fields = {"user"};
  StartServer(o);
  for (int r = 0; r < 4; ++r) Observe(r);
  ASSERT_TRUE(WaitApplied(800));
  const double before = Score();
  EXPECT_NE(before, 0.5);
  server_->Shutdown();
  StartServer(o);
  EXPECT_EQ(Score(), before);
  const v1::ModelInfo info = Info();
  EXPECT_EQ(info.config().kind(), v1::ModelConfig::DNN);
  EXPECT_EQ(info.config().dnn().batch_size(), 100u);
  ASSERT_EQ(info.config().dnn().hidden_size(), 2);
  EXPECT_EQ(info.config().dnn().hidden(0), 16u);
  EXPECT_EQ(info.config().optimizer().kind(), v1::OptimizerConfig::ADAM);
  for (int r = 4; r < 6; ++r) Observe(r);
  ASSERT_TRUE(WaitApplied(1200));
  const double continued = Score();
  server_.reset();
  // Other layer sizes do not resume this data dir.
  server::ServerOptions wider = o;
  wider.core.model.dnn.hidden = {32, 8};
  auto refused = server::GrpcServer::Start(wider);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("dnn.hidden 16,8, the config says 32,8"),
            std::string::npos) << refused.status();
  testing::TempDir other;
  o.core.storage.data_dir = other.path();
  StartServer(o);
  for (int r = 0; r < 6; ++r) Observe(r);
  ASSERT_TRUE(WaitApplied(1200));
  EXPECT_EQ(Score(), continued);
  server_.reset();
}

// Stopped between batch boundaries (batches of 64, rounds of 200 events: 32 events
// pending at the stop) with flushing off, the DNN checkpoints its last boundary and
// replays the pending events from the log at the next start, so it continues bit for bit
// as a server that never stopped (without that, the 32 events were neither in the tables
// nor replayed).
TEST_F(PersistenceTest, DnnStoppedBetweenBatchBoundariesReplaysThePendingEvents) {
  server::ServerOptions o = DnnOptions();
  o.core.updater.flush_partial_batch_ms = 0;
  StartServer(o);
  for (int r = 0; r < 4; ++r) Observe(r);  // 800 events: 12 batches and 32 pending
  ASSERT_TRUE(WaitApplied(768));  // the served snapshot holds the 12 batches
  EXPECT_EQ(Info().events_applied(), 768u);
  EXPECT_EQ(Stats().events_applied(), 800u);  // every event was scored
  const double before = Score();
  server_->Shutdown();
  StartServer(o);
  EXPECT_EQ(Score(), before);  // the boundary's tables, as served before the stop
  EXPECT_EQ(Info().events_applied(), 768u);
  EXPECT_EQ(Stats().events_applied(), 800u);  // the 32 pending events were replayed
  for (int r = 4; r < 6; ++r) Observe(r);  // 1200 events: 18 batches and 48 pending
  ASSERT_TRUE(WaitApplied(1152));
  const double continued = Score();
  EXPECT_NE(continued, before);
  server_.reset();
  testing::TempDir other;
  o.core.storage.data_dir = other.path();
  StartServer(o);
  for (int r = 0; r < 6; ++r) Observe(r);
  ASSERT_TRUE(WaitApplied(1152));
  EXPECT_EQ(Score(), continued);
  server_.reset();
}

// Issue 9: on a quiet stream (a fake clock that moves only when told) the DNN applies
// its partial batch once no event has arrived for --flush_partial_batch_ms, through a
// marker logged at its own sequence number; a clean stop flushes the rest the same way,
// so the restart replays nothing and serves the same model_version and parameters; and
// it continues bit for bit as a server that never stopped and flushed at the same places.
TEST_F(PersistenceTest, DnnFlushesAQuietStreamAndACleanStopThroughTheLog) {
  testing::FakeClock clock;
  server::ServerOptions o = DnnOptions();
  o.core.updater.clock = &clock;
  o.core.updater.flush_partial_batch_ms = 1000;
  o.core.updater.publish_every_events = 1;  // the clock stands still: publish every batch
  StartServer(o);
  Observe(0);  // 3 batches and 8 pending
  ASSERT_TRUE(WaitScored(200));
  ASSERT_TRUE(WaitApplied(192));
  EXPECT_EQ(Info().events_applied(), 192u);
  const double unflushed = Score();
  clock.Advance(std::chrono::milliseconds(1000));
  ASSERT_TRUE(WaitApplied(200));  // the quiet stream's partial batch
  EXPECT_NE(Score(), unflushed);
  EXPECT_EQ(Stats().last_seq(), 201u);  // the marker took 201
  Observe(1);  // events 202..401: 3 batches and 8 pending again
  ASSERT_TRUE(WaitScored(400));
  ASSERT_TRUE(WaitApplied(392));
  server_->Shutdown();  // flushes the 8 through a marker at 402, then persists
  StartServer(o);
  EXPECT_EQ(Info().events_applied(), 400u);  // nothing pending was left to replay
  EXPECT_EQ(Stats().events_applied(), 400u);
  EXPECT_EQ(Stats().last_seq(), 402u);
  const double at_stop = Score();
  Observe(2);
  ASSERT_TRUE(WaitScored(600));
  clock.Advance(std::chrono::milliseconds(1000));
  ASSERT_TRUE(WaitApplied(600));
  const double continued = Score();
  server_.reset();

  // Never stopped, flushed at the same places: the same parameters bit for bit.
  testing::TempDir other;
  o.core.storage.data_dir = other.path();
  StartServer(o);
  for (int r = 0; r < 3; ++r) {
    Observe(r);
    ASSERT_TRUE(WaitScored(200 * (r + 1)));
    if (r == 1) {
      ASSERT_TRUE(WaitApplied(392));
      const double before_flush = Score();
      clock.Advance(std::chrono::milliseconds(1000));
      ASSERT_TRUE(WaitApplied(400));
      EXPECT_EQ(Score(), at_stop);
      EXPECT_NE(before_flush, at_stop);
    } else {
      clock.Advance(std::chrono::milliseconds(1000));
      ASSERT_TRUE(WaitApplied(200 * (r + 1)));
    }
  }
  EXPECT_EQ(Stats().last_seq(), 603u);
  EXPECT_EQ(Score(), continued);
  server_.reset();
}

// The version of a DNN's clean restart: with flushing on, the stop leaves nothing pending
// and the restart serves the same model_version (README, Start); with flushing off the
// pending events are replayed at the start and published under a new version, as after
// a crash.
TEST_F(PersistenceTest, DnnCleanRestartKeepsItsVersionWhenTheStopFlushes) {
  for (const int64_t flush_ms : {int64_t{1000}, int64_t{0}}) {
    SCOPED_TRACE(flush_ms);
    testing::TempDir dir;
    server::ServerOptions o = DnnOptions();
    o.core.storage.data_dir = dir.path();
    o.core.updater.flush_partial_batch_ms = flush_ms;
    o.core.updater.publish_interval_ms = 100000;  // publication only at the stop
    StartServer(o);
    Observe(0);  // 8 pending
    ASSERT_TRUE(WaitScored(200));
    server_->Shutdown();
    StartServer(o);
    v1::ListSnapshotsResponse snapshots;
    ASSERT_TRUE(
        admin_->ListSnapshots(Ctx().get(), v1::ListSnapshotsRequest(), &snapshots).ok());
    ASSERT_GT(snapshots.snapshots_size(), 0);
    const v1::SnapshotInfo& newest = snapshots.snapshots(snapshots.snapshots_size() - 1);
    const uint64_t persisted = newest.model_version();  // written by the stop
    const v1::ModelInfo info = Info();
    if (flush_ms > 0) {
      EXPECT_EQ(newest.last_seq(), 201u);  // the stop's marker
      EXPECT_EQ(info.model_version(), persisted);
      EXPECT_EQ(info.events_applied(), 200u);
    } else {
      EXPECT_EQ(newest.last_seq(), 192u);
      EXPECT_GT(info.model_version(), persisted);  // the 8 replayed publish anew
      EXPECT_EQ(info.events_applied(), 192u);
    }
    EXPECT_EQ(Stats().events_applied(), 200u);
    server_.reset();
  }
}

// --durability=none keeps no log: before, the pending events of a clean stop were lost
// (192 of 200 survived); the stop's flush applies them before the final snapshot.
TEST_F(PersistenceTest, DnnWithoutALogLosesNothingAcknowledgedAtACleanStop) {
  server::ServerOptions o = DnnOptions(storage::Durability::kNone);
  StartServer(o);
  Observe(0);
  ASSERT_TRUE(WaitScored(200));
  server_->Shutdown();
  StartServer(o);
  EXPECT_EQ(Info().events_applied(), 200u);
  EXPECT_EQ(Stats().events_applied(), 200u);
  EXPECT_EQ(Stats().last_seq(), 201u);  // the marker took a number there too
}

// A data dir made by an earlier build (not normalized) resumes with a config file that
// does not mention `normalized` (written before the option existed): the stored setting
// wins. A config that asks for the other setting explicitly is refused, naming it.
TEST_F(PersistenceTest, NormalizationOfADataDirIsKeptUnlessTheConfigSaysOtherwise) {
  server::ServerOptions o = Options();
  o.core.model.optimizer.normalized = false;
  StartServer(o);
  Observe(0);
  ASSERT_TRUE(WaitApplied(200));
  const double before = Score();
  server_.reset();
  server::ServerOptions silent = Options();  // FTRL, normalized by default...
  silent.core.model.optimizer.normalized_explicit = false;  // ...but the file did not say
  StartServer(silent);
  EXPECT_EQ(Score(), before);
  EXPECT_FALSE(Info().config().optimizer().normalized());
  server_.reset();
  server::ServerOptions explicit_on = Options();
  ASSERT_TRUE(explicit_on.core.model.optimizer.normalized);
  auto refused = server::GrpcServer::Start(explicit_on);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("optimizer.normalized not normalized"),
            std::string::npos) << refused.status();
}

// dnn.kernels: a data dir trained with Eigen's arithmetic (every data dir of an earlier
// build) resumes with a config that leaves `kernels` out, keeping Eigen's, and a new one
// gets the ordered kernels; a config naming the other value is refused, naming both.
TEST_F(PersistenceTest, KernelsOfADataDirAreKeptUnlessTheConfigSaysOtherwise) {
  server::ServerOptions eigen = DnnOptions();
  eigen.core.updater.flush_partial_batch_ms = 0;  // the stop leaves the 8 pending
  eigen.core.model.dnn.kernels = model::DnnKernels::kEigen;
  StartServer(eigen);
  Observe(0);
  ASSERT_TRUE(WaitApplied(192));
  const double before = Score();
  server_.reset();
  server::ServerOptions silent = DnnOptions();  // ORDERED by default...
  silent.core.model.dnn.kernels_explicit = false;  // ...but the file did not say
  silent.core.updater.flush_partial_batch_ms = 0;
  StartServer(silent);
  EXPECT_EQ(Score(), before);
  EXPECT_EQ(Info().config().dnn().kernels(), v1::DnnConfig::EIGEN);
  server_.reset();
  server::ServerOptions ordered = DnnOptions();
  ASSERT_EQ(ordered.core.model.dnn.kernels, model::DnnKernels::kOrdered);
  auto refused = server::GrpcServer::Start(ordered);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find(
                "dnn.kernels EIGEN (its training arithmetic; replays must repeat it), the "
                "config says ORDERED"),
            std::string::npos)
      << refused.status();
  // A new data dir takes the default when the file does not say.
  testing::TempDir fresh;
  server::ServerOptions new_dir = silent;
  new_dir.core.storage.data_dir = fresh.path();
  StartServer(new_dir);
  EXPECT_EQ(Info().config().dnn().kernels(), v1::DnnConfig::ORDERED);
  server_.reset();
}

// DeepFM (the DNN's batches with a linear part and the FM term) through the server:
// stopped between batch boundaries, it checkpoints its last boundary (the linear
// weights and their optimizer state included) and replays the pending events, so it
// continues bit for bit as a server that never stopped; a DNN config does not resume
// its data dir.
TEST_F(PersistenceTest, DeepFmStoppedBetweenBatchBoundariesReplaysThePendingEvents) {
  server::ServerOptions o = Options();
  o.core.updater.flush_partial_batch_ms = 0;  // the stop leaves the 32 pending
  o.core.model = model::DefaultModelConfig(model::ModelKind::kDeepFm);
  o.core.model.hash_bits = 10;
  o.core.model.dnn.hidden = {16, 8};
  o.core.model.dnn.batch_size = 64;
  o.core.model.dnn.fields = {"user", "item_id"};
  StartServer(o);
  for (int r = 0; r < 4; ++r) Observe(r);  // 800 events: 12 batches and 32 pending
  ASSERT_TRUE(WaitApplied(768));
  EXPECT_EQ(Info().events_applied(), 768u);
  EXPECT_EQ(Stats().events_applied(), 800u);
  const double before = Score();
  EXPECT_NE(before, 0.5);
  server_->Shutdown();
  StartServer(o);
  EXPECT_EQ(Score(), before);
  const v1::ModelInfo info = Info();
  EXPECT_EQ(info.config().kind(), v1::ModelConfig::DEEPFM);
  EXPECT_EQ(info.config().dnn().fields_size(), 2);
  EXPECT_EQ(info.config().optimizer().kind(), v1::OptimizerConfig::ADAM);
  EXPECT_EQ(Stats().events_applied(), 800u);  // the 32 pending events were replayed
  for (int r = 4; r < 6; ++r) Observe(r);
  ASSERT_TRUE(WaitApplied(1152));
  const double continued = Score();
  EXPECT_NE(continued, before);
  server_.reset();
  server::ServerOptions dnn = o;
  dnn.core.model.kind = model::ModelKind::kDnn;
  auto refused = server::GrpcServer::Start(dnn);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find(
                "the data was written by a DeepFM, the config says deep neural network"),
            std::string::npos) << refused.status();
  testing::TempDir other;
  o.core.storage.data_dir = other.path();
  StartServer(o);
  for (int r = 0; r < 6; ++r) Observe(r);
  ASSERT_TRUE(WaitApplied(1152));
  EXPECT_EQ(Score(), continued);
  server_.reset();
}

TEST_F(PersistenceTest, IncompatibleDataDirRefusesUnlessStartFresh) {
  StartServer(Options());
  Observe(0);
  ASSERT_TRUE(WaitApplied(200));
  server_.reset();
  server::ServerOptions o = Options();
  o.core.model.hash_bits = 12;
  auto refused = server::GrpcServer::Start(o);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("hash_bits"), std::string::npos);
  o.core.storage.start_fresh = true;
  StartServer(o);
  EXPECT_EQ(Stats().events_applied(), 0u);
}

TEST_F(PersistenceTest, DurabilityNoneKeepsSnapshotsButNoLog) {
  StartServer(Options(storage::Durability::kNone));
  Observe(0);
  ASSERT_TRUE(WaitApplied(200));
  EXPECT_EQ(Stats().log_bytes(), 0u);
  server_->Shutdown();
  StartServer(Options(storage::Durability::kNone));
  EXPECT_EQ(Stats().events_applied(), 200u);  // from the final snapshot
}

TEST_F(PersistenceTest, SyncDurabilityAcknowledgesAfterFsync) {
  StartServer(Options(storage::Durability::kSync));
  const uint64_t syncs = Stats().wal_syncs();
  for (int r = 0; r < 3; ++r) Observe(r);
  // Each request, sent after the previous one was acknowledged, was its own group commit
  // and fsynced before its acknowledgement.
  EXPECT_GE(Stats().wal_syncs() - syncs, 3u);
  ASSERT_TRUE(WaitApplied(600));
  EXPECT_EQ(Stats().last_seq(), 600u);
  EXPECT_GT(Stats().log_bytes(), 0u);
}

TEST_F(PersistenceTest, DuplicateEventIdsAreAcknowledgedButTrainedOnceAcrossRestart) {
  server::ServerOptions o = Options();
  o.core.dedup_window = 1000;
  StartServer(o);
  v1::ObserveRequest req;
  for (int i = 0; i < 10; ++i) {
    *req.add_events() = MakeEvent("u", "A", 1);
    req.mutable_events(i)->set_event_id("e" + std::to_string(i % 5));  // 5 duplicates
  }
  v1::ObserveResponse resp;
  ASSERT_TRUE(ServerFixture::Observe(req, &resp).ok());
  EXPECT_EQ(resp.accepted(), 10u);
  ASSERT_TRUE(WaitApplied(5));
  EXPECT_EQ(Stats().duplicates_dropped(), 5u);
  server_.reset();
  StartServer(o);  // the window is rebuilt from the log
  ASSERT_TRUE(ServerFixture::Observe(req, &resp).ok());
  server_->Shutdown();
  StartServer(o);
  EXPECT_EQ(Stats().events_applied(), 5u);
}

// The de-duplication window is rebuilt from the log at start, so log truncation keeps
// the window's events even when every snapshot is newer (before: with one snapshot
// retained, a restart forgot every id and trained resent events again).
TEST_F(PersistenceTest, DedupWindowSurvivesRestartWhenSnapshotsAreNewer) {
  server::ServerOptions o = Options();
  o.core.dedup_window = 1000;
  o.core.storage.snapshots_retained = 1;
  o.core.updater.persist_interval_ms = 0;
  StartServer(o);
  v1::ObserveRequest ids;
  for (int i = 0; i < 100; ++i) {
    *ids.add_events() = MakeEvent("u" + std::to_string(i), "A", 1);
    ids.mutable_events(i)->set_event_id("id-" + std::to_string(i));
  }
  ASSERT_TRUE(ServerFixture::Observe(ids).ok());
  for (int r = 0; r < 4; ++r) Observe(r);  // 800 more events, without ids: still in the window
  ASSERT_TRUE(WaitApplied(900));
  v1::SaveSnapshotResponse saved;
  ASSERT_TRUE(admin_->SaveSnapshot(Ctx().get(), v1::SaveSnapshotRequest(), &saved).ok());
  server_->Shutdown();
  StartServer(o);
  ASSERT_TRUE(ServerFixture::Observe(ids).ok());  // the same 100 ids again
  server_->Shutdown();
  StartServer(o);
  EXPECT_EQ(Stats().events_applied(), 900u);
}

}  // namespace
}  // namespace streamrec
