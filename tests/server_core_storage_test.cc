// ServerCore's storage paths through a real gRPC server and a real RocksDB whose file
// system injects faults (tests/testing/fault_fs.h): snapshots that count only once
// written, a full disk and the recovery from it, vector fields registered only for
// accepted requests, the queue's byte budget, and fsyncs under --durability=sync.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/testing/fault_fs.h"
#include "tests/testing/server_fixture.h"
#include "tests/testing/updater_gate.h"
#include "tests/testing/temp_dir.h"

namespace streamrec {
namespace {

using grpc::health::v1::HealthCheckResponse;
using testing::MakeEvent;

class ServerStorageTest : public testing::ServerFixture {
 protected:
  void SetUp() override {}
  server::ServerOptions Options(storage::Durability durability = storage::Durability::kAsync) {
    server::ServerOptions o = testing::TestServerOptions();
    o.core.storage.data_dir = dir_.path();
    o.core.storage.durability = durability;
    o.core.storage.file_system = fs_;
    o.core.storage.recovery_interval = std::chrono::milliseconds(20);
    o.core.updater.persist_interval_ms = 0;  // snapshots only on demand and on stop
    return o;
  }
  v1::ObserveRequest Events(int n, const std::string& user = "u") {
    v1::ObserveRequest req;
    for (int i = 0; i < n; ++i) *req.add_events() = MakeEvent(user, "i" + std::to_string(i % 5), i % 2);
    return req;
  }
  HealthCheckResponse::ServingStatus Health(const std::string& service) {
    auto health = grpc::health::v1::Health::NewStub(channel_);
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    HealthCheckResponse resp;
    EXPECT_TRUE(health->Check(Ctx().get(), req, &resp).ok()) << service;
    return resp.status();
  }
  absl::StatusOr<uint64_t> Save() {
    v1::SaveSnapshotResponse resp;
    grpc::Status s = admin_->SaveSnapshot(Ctx().get(), v1::SaveSnapshotRequest(), &resp);
    if (!s.ok()) return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
    return resp.model_version();
  }

  testing::TempDir dir_;
  std::shared_ptr<testing::FaultFs> fs_ = std::make_shared<testing::FaultFs>();
};

// Issue 7.1: a snapshot whose write failed is not persisted: SaveSnapshot reports the
// failure, succeeds once the disk is healthy, and a clean stop writes what a failed
// write lost (before the fix: --durability=none lost 100 acknowledged events this way).
TEST_F(ServerStorageTest, FailedSnapshotWriteIsRetriedAndCleanStopLosesNothing) {
  StartServer(Options(storage::Durability::kNone));
  ASSERT_TRUE(Observe(Events(100)).ok());
  ASSERT_TRUE(WaitApplied(100));
  fs_->FailWrites(true);
  EXPECT_EQ(Save().status().code(), absl::StatusCode::kUnavailable);
  fs_->FailWrites(false);
  ASSERT_TRUE(WaitFor([&] { return Stats().storage_writable(); }));
  absl::StatusOr<uint64_t> saved = Save();
  ASSERT_TRUE(saved.ok()) << saved.status();  // not the old failure
  EXPECT_EQ(Stats().persisted_version(), *saved);
  ASSERT_TRUE(Observe(Events(100, "w")).ok());
  ASSERT_TRUE(WaitApplied(200));
  fs_->FailWrites(true);
  EXPECT_FALSE(Save().ok());
  fs_->FailWrites(false);
  ASSERT_TRUE(WaitFor([&] { return Stats().storage_writable(); }));
  server_->Shutdown();  // must write the state the failed save did not
  EXPECT_TRUE(server_->core().final_persist_status().ok());
  StartServer(Options(storage::Durability::kNone));
  EXPECT_EQ(Stats().events_applied(), 200u);
}

// Issue 7.4: a full disk makes Observe UNAVAILABLE (counted as rejected, not accepted)
// and ingest health NOT_SERVING while Predict stays SERVING; freeing space recovers by
// itself, without a restart; nothing acknowledged is lost.
TEST_F(ServerStorageTest, DiskFullRejectsIngestAndRecoversByItself) {
  StartServer(Options());
  EXPECT_EQ(Health("streamrec.v1.Ingest"), HealthCheckResponse::SERVING);
  ASSERT_TRUE(Observe(Events(50)).ok());
  fs_->FailWrites(true);
  grpc::Status s = Observe(Events(10));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  ASSERT_TRUE(WaitFor([&] { return Health("streamrec.v1.Ingest") == HealthCheckResponse::NOT_SERVING; }));
  EXPECT_EQ(Health("streamrec.v1.Recommender"), HealthCheckResponse::SERVING);
  s = Observe(Events(10));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(s.error_message().find("not writable"), std::string::npos) << s.error_message();
  v1::Stats stats = Stats();
  EXPECT_FALSE(stats.storage_writable());
  EXPECT_NE(stats.storage_error().find("No space left"), std::string::npos) << stats.storage_error();
  EXPECT_EQ(stats.events_accepted(), 50u);
  EXPECT_EQ(stats.events_rejected().at("storage_unavailable"), 20u);
  v1::PredictRequest p;
  p.add_candidates()->set_id("i1");
  v1::PredictResponse resp;
  EXPECT_TRUE(Predict(p, &resp).ok());

  fs_->FailWrites(false);
  ASSERT_TRUE(WaitFor([&] { return Health("streamrec.v1.Ingest") == HealthCheckResponse::SERVING; }));
  ASSERT_TRUE(Observe(Events(30)).ok());
  stats = Stats();
  EXPECT_TRUE(stats.storage_writable());
  EXPECT_EQ(stats.storage_recoveries(), 1u);
  EXPECT_EQ(stats.events_accepted(), 80u);
  ASSERT_TRUE(WaitApplied(80));
  server_->Shutdown();
  StartServer(Options());
  EXPECT_EQ(Stats().events_applied(), 80u);
}

// Issue 7.6: a request refused for a full queue registers no vector field, so a later
// request may fix another dimension, which survives a restart.
TEST_F(ServerStorageTest, RejectedRequestRegistersNoVectorField) {
  server::ServerOptions o = Options();
  o.core.queue_capacity = 5;
  o.core.limits.max_events_per_request = 5;
  StartServer(o);
  auto gate = std::make_unique<testing::UpdaterGate>(server_->core().updater());
  ASSERT_TRUE(Observe(Events(5)).ok());
  auto with_vector = [](int dim) {
    v1::ObserveRequest req;
    *req.add_events() = MakeEvent("u", "a", 1);
    auto* v = (*req.mutable_events(0)->mutable_context()->mutable_values())["emb"].mutable_vector();
    for (int i = 0; i < dim; ++i) v->add_values(0.5f);
    return req;
  };
  EXPECT_EQ(Observe(with_vector(3)).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  gate->Release();
  ASSERT_TRUE(WaitApplied(5));
  ASSERT_TRUE(Observe(with_vector(4)).ok());
  EXPECT_EQ(Stats().vector_fields(), 1u);
  server_->Shutdown();
  StartServer(o);
  EXPECT_EQ(Observe(with_vector(3)).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(Observe(with_vector(4)).ok());
}

// Issue 7.10: a cap on distinct vector fields.
TEST_F(ServerStorageTest, VectorFieldsAreCapped) {
  server::ServerOptions o = Options();
  o.core.max_vector_fields = 2;
  StartServer(o);
  auto field = [](const std::string& name) {
    v1::ObserveRequest req;
    *req.add_events() = MakeEvent("u", "a", 1);
    (*req.mutable_events(0)->mutable_context()->mutable_values())[name].mutable_vector()->add_values(1);
    return req;
  };
  ASSERT_TRUE(Observe(field("f1")).ok());
  ASSERT_TRUE(Observe(field("f2")).ok());
  grpc::Status s = Observe(field("f3"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("--max_vector_fields"), std::string::npos) << s.error_message();
  EXPECT_TRUE(Observe(field("f1")).ok());
  EXPECT_EQ(Stats().vector_fields(), 2u);
}

// Issue 7.10: names that the server keeps (vector fields, for the model's life; event
// ids, for the de-duplication window) are bounded in length, so a cap on their number
// bounds their memory (before: 150 vector fields named by 1 MB strings took 390 MB).
TEST_F(ServerStorageTest, KeptNamesAreBoundedInLength) {
  StartServer(Options());
  v1::ObserveRequest req;
  *req.add_events() = MakeEvent("u", "a", 1);
  (*req.mutable_events(0)->mutable_context()->mutable_values())[std::string(257, 'v')]
      .mutable_vector()->add_values(1);
  grpc::Status s = Observe(req);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("257 bytes; at most 256"), std::string::npos)
      << s.error_message();
  v1::ObserveRequest id;
  *id.add_events() = MakeEvent("u", "a", 1);
  id.mutable_events(0)->set_event_id(std::string(300, 'e'));
  s = Observe(id);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("events[0].event_id: 300 bytes"), std::string::npos)
      << s.error_message();
  id.mutable_events(0)->set_event_id(std::string(256, 'e'));
  EXPECT_TRUE(Observe(id).ok());
  EXPECT_EQ(Stats().vector_fields(), 0u);
}

// Issue 7.10: the queue is bounded by bytes too: large events fill the byte budget long
// before the event capacity; a unary request beyond it is RESOURCE_EXHAUSTED with its
// own reason, and a stream waits (its parked batch counted) instead of failing.
TEST_F(ServerStorageTest, QueueIsBoundedByBytes) {
  server::ServerOptions o = Options();
  o.core.queue_capacity = 100000;
  o.core.queue_max_bytes = 2 << 20;
  o.core.limits.max_message_bytes = 256 << 10;
  StartServer(o);
  auto gate = std::make_unique<testing::UpdaterGate>(server_->core().updater());
  auto big = [](int events) {
    v1::ObserveRequest req;
    for (int e = 0; e < events; ++e) {
      *req.add_events() = MakeEvent("u", "a", 1);
      auto& values = *req.mutable_events(e)->mutable_context()->mutable_values();
      for (int f = 0; f < 400; ++f) values["f" + std::to_string(f)].set_number(f);
    }
    return req;  // ~6.5 KiB converted per event
  };
  int accepted = 0;
  grpc::Status s;
  while ((s = Observe(big(20))).ok()) accepted += 20;
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(s.error_message().find("--queue_max_bytes"), std::string::npos) << s.error_message();
  EXPECT_GT(accepted, 0);
  EXPECT_LT(accepted, 400);  // the byte budget, not the 100000-event capacity
  v1::Stats stats = Stats();
  EXPECT_LE(stats.queue_bytes(), stats.queue_max_bytes());
  EXPECT_EQ(stats.events_rejected().at("queue_bytes_full"), 20u);
  // A stream parks instead of failing, and goes on once room is freed.
  auto ctx = Ctx();
  auto stream = recommender_->ObserveStream(ctx.get());
  ASSERT_TRUE(stream->Write(big(20)));
  gate->Release();
  v1::ObserveResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_EQ(resp.accepted(), 20u);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  ASSERT_TRUE(WaitApplied(accepted + 20));
  EXPECT_EQ(Stats().queue_bytes(), 0u);
}

// Issue 7.15: --durability=sync fsyncs the log before acknowledging: one WAL sync per
// acknowledged request when requests come one at a time; async does not.
TEST_F(ServerStorageTest, SyncDurabilityFsyncsEveryGroupAndAsyncDoesNot) {
  StartServer(Options(storage::Durability::kSync));
  const uint64_t before = Stats().wal_syncs();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Observe(Events(3)).ok());
  EXPECT_GE(Stats().wal_syncs() - before, 20u);
  server_->Shutdown();

  testing::TempDir other;
  server::ServerOptions o = Options(storage::Durability::kAsync);
  o.core.storage.data_dir = other.path();
  StartServer(o);
  const uint64_t async_before = Stats().wal_syncs();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Observe(Events(3)).ok());
  EXPECT_LT(Stats().wal_syncs() - async_before, 5u);
  server_.reset();  // before `other` is removed
}

}  // namespace
}  // namespace streamrec
