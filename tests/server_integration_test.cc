// The server end to end over gRPC on loopback: round trip, learning, hot-swapped
// versions, every bad input, back-pressure, streams, health and reflection.
#include <gtest/gtest.h>

#include <cmath>

#include <functional>
#include <limits>

#include <set>

#include "grpc/health/v1/health.grpc.pb.h"
#include "client/click_generator.h"
#include "server/error_details.h"
#include "tests/testing/server_fixture.h"
#include "tests/testing/updater_gate.h"

namespace streamrec {
namespace {

using testing::MakeEvent;
using testing::SetCategory;

class ServerTest : public testing::ServerFixture {
 protected:
  // RestartGated: a fresh server whose queue holds `queue_capacity` events, requests at
  // most 10, and whose updater is paused until the returned gate is released.
  std::unique_ptr<testing::UpdaterGate> RestartGated(size_t queue_capacity) {
    server_->Shutdown();
    server::ServerOptions o = testing::TestServerOptions();
    o.core.queue_capacity = queue_capacity;
    o.core.limits.max_events_per_request = 10;
    StartServer(o);
    return std::make_unique<testing::UpdaterGate>(server_->core().updater());
  }
  // WaitReceived: until Stats.events_received reaches n (or a minute passes).
  uint64_t WaitReceived(uint64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (Stats().events_received() < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return Stats().events_received();
  }
};

// TenEvents: a full request (10 events, alternating items and labels).
v1::ObserveRequest TenEvents() {
  v1::ObserveRequest req;
  for (int i = 0; i < 10; ++i) *req.add_events() = MakeEvent("u", i % 2 ? "A" : "B", i % 2);
  return req;
}

v1::PredictRequest TwoCandidates(const std::string& user) {
  v1::PredictRequest req;
  SetCategory(req.mutable_context(), "user", user);
  req.add_candidates()->set_id("A");
  req.add_candidates()->set_id("B");
  return req;
}

TEST_F(ServerTest, PredictObserveRoundTrip) {
  v1::PredictResponse resp;
  ASSERT_TRUE(Predict(TwoCandidates("u1"), &resp).ok());
  ASSERT_EQ(resp.items_size(), 2);
  EXPECT_EQ(resp.model_version(), 0u);
  EXPECT_NEAR(resp.items(0).score(), 0.5, 1e-9);
  EXPECT_EQ(resp.items(0).id(), "A");  // tie: candidate order
  EXPECT_EQ(resp.items(0).index(), 0u);
  EXPECT_FALSE(resp.prediction_id().empty());
  v1::PredictResponse again;
  ASSERT_TRUE(Predict(TwoCandidates("u1"), &again).ok());
  EXPECT_NE(again.prediction_id(), resp.prediction_id());

  v1::ObserveRequest obs;
  *obs.add_events() = MakeEvent("u1", "A", 1);
  obs.mutable_events(0)->set_prediction_id(resp.prediction_id());
  v1::ObserveResponse ack;
  ASSERT_TRUE(Observe(obs, &ack).ok());
  EXPECT_EQ(ack.accepted(), 1u);
}

TEST_F(ServerTest, LearnsToRankClickedItemFirst) {
  for (int round = 0; round < 20; ++round) {
    v1::ObserveRequest obs;
    for (int i = 0; i < 50; ++i) {
      *obs.add_events() = MakeEvent("u1", "A", 1);
      *obs.add_events() = MakeEvent("u1", "B", 0);
    }
    ASSERT_TRUE(Observe(obs).ok());
  }
  ASSERT_TRUE(WaitApplied(2000));
  v1::PredictRequest req = TwoCandidates("u1");
  std::swap(*req.mutable_candidates(0), *req.mutable_candidates(1));  // B first
  v1::PredictResponse resp;
  ASSERT_TRUE(Predict(req, &resp).ok());
  ASSERT_EQ(resp.items_size(), 2);
  EXPECT_EQ(resp.items(0).id(), "A");
  EXPECT_EQ(resp.items(0).index(), 1u);
  EXPECT_GT(resp.items(0).score(), 0.9);
  EXPECT_LT(resp.items(1).score(), 0.1);
  EXPECT_GT(resp.model_version(), 0u);
  const v1::Stats stats = Stats();
  EXPECT_EQ(stats.events_accepted(), 2000u);
  EXPECT_EQ(stats.events_applied(), 2000u);
  EXPECT_EQ(stats.progressive().events(), 2000u);
  EXPECT_GT(stats.progressive().accuracy(), 0.9);
  EXPECT_GT(stats.publications(), 0u);
}

// Issue 9: with "user x item_id" crossed in the server, a preference no additive model
// can express (u1 clicks A not B, u2 clicks B not A; both items are clicked as often) is
// learned from plain fields and ranked per user, the cross spanning context and item.
TEST_F(ServerTest, CrossInTheServerLearnsPerUserPreferences) {
  server::ServerOptions o = testing::TestServerOptions();
  o.core.model.crosses = {model::Cross{{"user", "item_id"}}};
  StartServer(o);
  for (int round = 0; round < 20; ++round) {
    v1::ObserveRequest obs;
    for (int i = 0; i < 25; ++i) {
      *obs.add_events() = MakeEvent("u1", "A", 1);
      *obs.add_events() = MakeEvent("u1", "B", 0);
      *obs.add_events() = MakeEvent("u2", "A", 0);
      *obs.add_events() = MakeEvent("u2", "B", 1);
    }
    ASSERT_TRUE(Observe(obs).ok());
  }
  ASSERT_TRUE(WaitApplied(2000));
  for (const char* user : {"u1", "u2"}) {
    v1::PredictResponse resp;
    ASSERT_TRUE(Predict(TwoCandidates(user), &resp).ok());
    ASSERT_EQ(resp.items_size(), 2);
    EXPECT_EQ(resp.items(0).id(), std::string(user) == "u1" ? "A" : "B") << user;
    EXPECT_GT(resp.items(0).score(), 0.9) << user;
    EXPECT_LT(resp.items(1).score(), 0.1) << user;
  }
  EXPECT_GT(Stats().progressive().accuracy(), 0.9);
}

// Issue 9: a factorization machine learns the same per-user preferences from plain
// fields, without any cross.
TEST_F(ServerTest, FactorizationMachineLearnsPerUserPreferences) {
  server::ServerOptions o = testing::TestServerOptions();
  o.core.model.kind = model::ModelKind::kFm;
  o.core.model.hash_bits = 14;
  StartServer(o);
  for (int round = 0; round < 40; ++round) {
    v1::ObserveRequest obs;
    for (int i = 0; i < 25; ++i) {
      *obs.add_events() = MakeEvent("u1", "A", 1);
      *obs.add_events() = MakeEvent("u1", "B", 0);
      *obs.add_events() = MakeEvent("u2", "A", 0);
      *obs.add_events() = MakeEvent("u2", "B", 1);
    }
    ASSERT_TRUE(Observe(obs).ok());
  }
  ASSERT_TRUE(WaitApplied(4000));
  for (const char* user : {"u1", "u2"}) {
    v1::PredictResponse resp;
    ASSERT_TRUE(Predict(TwoCandidates(user), &resp).ok());
    ASSERT_EQ(resp.items_size(), 2);
    EXPECT_EQ(resp.items(0).id(), std::string(user) == "u1" ? "A" : "B") << user;
    EXPECT_GT(resp.items(0).score(), 0.8) << user;
    EXPECT_LT(resp.items(1).score(), 0.2) << user;
  }
}

// Hostile pass: crossing two huge numbers gave inf, then NaN scores, and the NaN in the
// progressive metrics hung GetStats. Scores stay finite and the server keeps answering.
TEST_F(ServerTest, CrossOfHugeNumbersNeverGivesNaN) {
  server::ServerOptions o = testing::TestServerOptions();
  o.core.model.crosses = {model::Cross{{"p", "q"}}};
  StartServer(o);
  auto huge = [](v1::Features* f) {
    (*f->mutable_values())["p"].set_number(1e20);
    (*f->mutable_values())["q"].set_number(1e20);
  };
  v1::ObserveRequest obs;
  for (int i = 0; i < 20; ++i) {
    v1::Event* e = obs.add_events();
    huge(e->mutable_context());
    e->mutable_item()->set_id(i % 2 ? "A" : "B");
    e->set_label(i % 2);
  }
  ASSERT_TRUE(Observe(obs).ok());
  // Every update is skipped (1e20 squared overflows the optimizer's state), so nothing
  // is published: wait for the trainer's count instead of the served snapshot's.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (Stats().events_applied() < 20 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(Stats().events_applied(), 20u);
  v1::PredictRequest req = TwoCandidates("u1");
  huge(req.mutable_context());
  v1::PredictResponse resp;
  ASSERT_TRUE(Predict(req, &resp).ok());
  for (const auto& item : resp.items()) EXPECT_TRUE(std::isfinite(item.score())) << item.id();
  const v1::Stats stats = Stats();  // answers (it hung before)
  EXPECT_TRUE(std::isfinite(stats.progressive().logloss()));
  EXPECT_TRUE(std::isfinite(stats.progressive().auc()));
}

TEST_F(ServerTest, TopKCutsAndLargerTopKReturnsAll) {
  v1::PredictRequest req = TwoCandidates("u");
  req.add_candidates()->set_id("C");
  req.set_top_k(2);
  v1::PredictResponse resp;
  ASSERT_TRUE(Predict(req, &resp).ok());
  EXPECT_EQ(resp.items_size(), 2);
  req.set_top_k(10);
  resp.Clear();
  ASSERT_TRUE(Predict(req, &resp).ok());
  EXPECT_EQ(resp.items_size(), 3);
}

struct BadPredict {
  std::string name;
  std::function<void(v1::PredictRequest&)> mutate;
  std::string field;  // must appear in the error message
};

TEST_F(ServerTest, BadPredictRequestsAreInvalidArgumentNamingTheField) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<BadPredict> cases = {
      {"no candidates", [](auto& r) { r.clear_candidates(); }, "candidates"},
      {"empty id", [](auto& r) { r.mutable_candidates(1)->set_id(""); }, "candidates[1].id"},
      {"duplicate id", [](auto& r) { r.mutable_candidates(1)->set_id("A"); },
       "candidates[1].id"},
      {"item_id in context", [](auto& r) { SetCategory(r.mutable_context(), "item_id", "x"); },
       "item_id"},
      {"item_id in item",
       [](auto& r) { SetCategory(r.mutable_candidates(0)->mutable_features(), "item_id", "x"); },
       "candidates[0].features"},
      {"empty name", [](auto& r) { SetCategory(r.mutable_context(), "", "x"); }, "context"},
      {"NaN number",
       [nan](auto& r) { (*r.mutable_context()->mutable_values())["age"].set_number(nan); },
       "context.values[\"age\"].number"},
      {"Inf number",
       [](auto& r) {
         (*r.mutable_context()->mutable_values())["age"].set_number(
             std::numeric_limits<double>::infinity());
       },
       "age"},
      {"NaN in vector",
       [nan](auto& r) {
         auto* v = (*r.mutable_context()->mutable_values())["emb"].mutable_vector();
         v->add_values(1);
         v->add_values(nan);
       },
       "emb\"].vector.values[1]"},
      {"no value set",
       [](auto& r) { (*r.mutable_context()->mutable_values())["x"]; }, "x"},
      {"field in context and item",
       [](auto& r) { SetCategory(r.mutable_candidates(0)->mutable_features(), "user", "u"); },
       "candidates[0].features.values[\"user\"]"},
      {"too many candidates",
       [](auto& r) {
         for (int i = 0; i < 1001; ++i) r.add_candidates()->set_id("c" + std::to_string(i));
       },
       "candidates"},
      {"too many features",
       [](auto& r) {
         auto* v = (*r.mutable_context()->mutable_values())["big"].mutable_categories();
         for (int i = 0; i < 5000; ++i) v->add_values(std::to_string(i));
       },
       "max_features_per_example"},
  };
  for (const BadPredict& c : cases) {
    v1::PredictRequest req = TwoCandidates("u");
    c.mutate(req);
    v1::PredictResponse resp;
    grpc::Status s = Predict(req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.name;
    EXPECT_NE(s.error_message().find(c.field), std::string::npos)
        << c.name << ": " << s.error_message();
  }
}

struct BadObserve {
  std::string name;
  std::function<void(v1::Event&)> mutate;
  std::string field;
};

TEST_F(ServerTest, BadObserveRequestsAreInvalidArgumentAndNothingIsLearned) {
  const std::vector<BadObserve> cases = {
      {"missing label", [](auto& e) { e.clear_label(); }, "events[1].label"},
      {"label above 1", [](auto& e) { e.set_label(1.5); }, "events[1].label"},
      {"label below 0", [](auto& e) { e.set_label(-0.1); }, "events[1].label"},
      {"NaN label", [](auto& e) { e.set_label(std::nan("")); }, "events[1].label"},
      {"negative weight", [](auto& e) { e.set_weight(-1); }, "events[1].weight"},
      {"Inf weight",
       [](auto& e) { e.set_weight(std::numeric_limits<double>::infinity()); },
       "events[1].weight"},
      {"missing item", [](auto& e) { e.clear_item(); }, "events[1].item"},
      {"empty item id", [](auto& e) { e.mutable_item()->set_id(""); }, "events[1].item.id"},
      {"item_id feature",
       [](auto& e) { SetCategory(e.mutable_item()->mutable_features(), "item_id", "z"); },
       "item_id"},
      {"field in context and item",
       [](auto& e) { SetCategory(e.mutable_item()->mutable_features(), "user", "z"); },
       "events[1].item.features.values[\"user\"]"},
      {"NaN number",
       [](auto& e) { (*e.mutable_context()->mutable_values())["x"].set_number(std::nan("")); },
       "events[1].context.values[\"x\"].number"},
      {"empty vector",
       [](auto& e) { (*e.mutable_context()->mutable_values())["v"].mutable_vector(); },
       "events[1].context.values[\"v\"].vector"},
  };
  for (const BadObserve& c : cases) {
    v1::ObserveRequest req;
    *req.add_events() = MakeEvent("u", "A", 1);
    *req.add_events() = MakeEvent("u", "B", 0);
    c.mutate(*req.mutable_events(1));
    grpc::Status s = Observe(req);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.name;
    EXPECT_NE(s.error_message().find(c.field), std::string::npos)
        << c.name << ": " << s.error_message();
  }
  v1::ObserveRequest empty;
  EXPECT_EQ(Observe(empty).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const v1::Stats stats = Stats();
  EXPECT_EQ(stats.events_accepted(), 0u);
  EXPECT_EQ(stats.events_rejected().at("invalid_argument"), 2 * cases.size());
  EXPECT_EQ(stats.queue_depth(), 0u);
}

TEST_F(ServerTest, ClientStringsInErrorsAreCutAndEscaped) {
  // A 10 KB id echoed whole would exceed gRPC's metadata limit (RESOURCE_EXHAUSTED).
  const std::string long_id(10240, 'x');
  v1::PredictRequest dup;
  dup.add_candidates()->set_id(long_id);
  dup.add_candidates()->set_id(long_id);
  v1::PredictResponse resp;
  grpc::Status s = Predict(dup, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message().size();
  EXPECT_EQ(s.error_message(), "candidates[1].id: duplicate candidate id \"" +
                                   std::string(64, 'x') + "\"... (10240 bytes)");

  v1::ObserveRequest long_name;
  *long_name.add_events() = MakeEvent("u", "A", 1);
  (*long_name.mutable_events(0)->mutable_context()->mutable_values())[long_id].set_number(
      std::nan(""));
  s = Observe(long_name);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_LT(s.error_message().size(), 200u) << s.error_message();
  // (A name this long is refused for its length, the first check it meets.)
  EXPECT_NE(s.error_message().find("xx\"... (10240 bytes)]: feature name of 10240 bytes"),
            std::string::npos) << s.error_message();

  // Control characters and quotes come back escaped, never raw.
  v1::ObserveRequest control;
  *control.add_events() = MakeEvent("u", "A", 1);
  SetCategory(control.mutable_events(0)->mutable_item()->mutable_features(),
              std::string("a\x01\"b\n", 5), "z");
  SetCategory(control.mutable_events(0)->mutable_context(), std::string("a\x01\"b\n", 5), "z");
  s = Observe(control);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(),
            "events[0].item.features.values[\"a\\x01\\\"b\\x0a\"]: feature is set both in the "
            "context and the item");
}

TEST_F(ServerTest, VectorDimensionIsFixedByFirstTrainingEvent) {
  auto with_vector = [](int dim) {
    v1::Event e = MakeEvent("u", "A", 1);
    auto* v = (*e.mutable_context()->mutable_values())["emb"].mutable_vector();
    for (int i = 0; i < dim; ++i) v->add_values(0.1f * i);
    return e;
  };
  v1::ObserveRequest ok;
  *ok.add_events() = with_vector(4);
  ASSERT_TRUE(Observe(ok).ok());
  v1::ObserveRequest bad;
  *bad.add_events() = with_vector(4);
  *bad.add_events() = with_vector(3);
  grpc::Status s = Observe(bad);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("events[1].context.values[\"emb\"].vector"),
            std::string::npos) << s.error_message();
  v1::PredictRequest p = TwoCandidates("u");
  auto* v = (*p.mutable_context()->mutable_values())["emb"].mutable_vector();
  v->add_values(1);
  v1::PredictResponse resp;
  EXPECT_EQ(Predict(p, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ServerTest, FullQueueIsResourceExhaustedAndAcceptsNothing) {
  auto gate = RestartGated(10);
  v1::ObserveRequest seven;
  for (int i = 0; i < 7; ++i) *seven.add_events() = MakeEvent("u", "A", 1);
  ASSERT_TRUE(Observe(seven).ok());
  v1::ObserveRequest four;
  for (int i = 0; i < 4; ++i) *four.add_events() = MakeEvent("u", "A", 1);
  grpc::Status s = Observe(four);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  v1::Stats stats = Stats();
  EXPECT_EQ(stats.queue_depth(), 7u);
  EXPECT_EQ(stats.events_accepted(), 7u);
  EXPECT_EQ(stats.events_rejected().at("queue_full"), 4u);
  v1::ObserveRequest eleven;
  for (int i = 0; i < 11; ++i) *eleven.add_events() = MakeEvent("u", "A", 1);
  EXPECT_EQ(Observe(eleven).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  gate->Release();
  ASSERT_TRUE(WaitApplied(7));
  EXPECT_TRUE(Observe(four).ok());
}

TEST_F(ServerTest, OversizedMessageIsRejectedByTheConfiguredLimit) {
  server_->Shutdown();
  server::ServerOptions o = testing::TestServerOptions();
  o.core.limits.max_message_bytes = 2000;
  StartServer(o);
  v1::ObserveRequest big;
  for (int i = 0; i < 100; ++i) *big.add_events() = MakeEvent("user-" + std::to_string(i), "A", 1);
  ASSERT_GT(big.ByteSizeLong(), 2000u);
  grpc::Status s = Observe(big);
  // gRPC enforces the size before our handler runs; its code is RESOURCE_EXHAUSTED and
  // its message names the limit, unlike the queue's "event queue full".
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(s.error_message().find("queue"), std::string::npos) << s.error_message();
  EXPECT_EQ(Stats().events_received(), 0u);
}

TEST_F(ServerTest, StreamWaitsForRoomInsteadOfLosingEvents) {
  auto gate = RestartGated(20);
  auto ctx = Ctx();
  auto stream = recommender_->ObserveStream(ctx.get());
  constexpr int kRequests = 30, kPerRequest = 10;
  // A writer sends everything; the server can hold only two requests while paused.
  std::thread writer([&] {
    for (int r = 0; r < kRequests; ++r) {
      v1::ObserveRequest req;
      for (int i = 0; i < kPerRequest; ++i) {
        *req.add_events() = MakeEvent("u", i % 2 ? "A" : "B", i % 2);
      }
      if (!stream->Write(req)) break;
    }
    stream->WritesDone();
  });
  v1::ObserveResponse resp;
  int acks = 0;
  for (; acks < 2; ++acks) {
    ASSERT_TRUE(stream->Read(&resp));
    EXPECT_EQ(resp.accepted(), uint64_t{kPerRequest});
  }
  // The third request reaches validation (events_received), finds the queue full and
  // parks: the stream neither fails nor overfills the queue. The fourth is read and
  // converted meanwhile (read ahead), and held: no fifth is read.
  WaitReceived(4 * kPerRequest);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // a fifth would show by now
  const v1::Stats parked = Stats();
  ASSERT_EQ(parked.events_received(), uint64_t{4 * kPerRequest});
  EXPECT_EQ(parked.queue_depth(), 20u);
  EXPECT_EQ(parked.events_accepted(), 20u);
  EXPECT_EQ(parked.events_rejected().at("queue_full"), 0u);
  gate->Release();
  while (stream->Read(&resp)) {
    EXPECT_EQ(resp.accepted(), uint64_t{kPerRequest});
    ++acks;
  }
  writer.join();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(acks, kRequests);
  ASSERT_TRUE(WaitApplied(kRequests * kPerRequest));
  EXPECT_EQ(Stats().events_rejected().at("queue_full"), 0u);
}

TEST_F(ServerTest, StreamWithInvalidRequestEndsWithInvalidArgument) {
  auto ctx = Ctx();
  auto stream = recommender_->ObserveStream(ctx.get());
  v1::ObserveRequest good;
  *good.add_events() = MakeEvent("u", "A", 1);
  ASSERT_TRUE(stream->Write(good));
  v1::ObserveResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  v1::ObserveRequest bad;
  *bad.add_events() = MakeEvent("u", "A", 2);
  stream->Write(bad);
  EXPECT_FALSE(stream->Read(&resp));
  grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("events[0].label"), std::string::npos);
}

// Read ahead: while a request waits for room in the queue, the next one is read and
// converted. Found invalid, it ends the stream only after the one before it is logged
// and acknowledged.
TEST_F(ServerTest, StreamRequestReadAheadEndsTheStreamAfterTheOneBefore) {
  auto gate = RestartGated(10);
  const v1::ObserveRequest full = TenEvents();
  v1::ObserveRequest bad;
  *bad.add_events() = MakeEvent("u", "A", 2);  // label 2
  auto ctx = Ctx();
  auto stream = recommender_->ObserveStream(ctx.get());
  ASSERT_TRUE(stream->Write(full));  // fills the queue
  ASSERT_TRUE(stream->Write(full));  // waits for room
  ASSERT_TRUE(stream->Write(bad));   // read ahead, refused
  v1::ObserveResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (Stats().events_rejected().at("invalid_argument") < 1 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  v1::Stats st = Stats();
  ASSERT_EQ(st.events_received(), 21u);
  EXPECT_EQ(st.events_accepted(), 10u);  // the second is not logged yet
  gate->Release();
  ASSERT_TRUE(stream->Read(&resp));  // the second, acknowledged before the error
  EXPECT_EQ(resp.accepted(), 10u);
  EXPECT_FALSE(stream->Read(&resp));
  const grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("events[0].label"), std::string::npos) << s.error_message();
  ASSERT_TRUE(WaitApplied(20));
  st = Stats();
  EXPECT_EQ(st.events_accepted(), 20u);
  EXPECT_EQ(st.events_rejected().at("invalid_argument"), 1u);
}

// A stop while a request is held behind the one in flight: the one in flight is logged
// and acknowledged, the held one refused unlogged and counted (unavailable).
TEST_F(ServerTest, StopRefusesTheRequestReadAhead) {
  auto gate = RestartGated(20);
  const v1::ObserveRequest full = TenEvents();
  auto ctx = Ctx();
  auto stream = recommender_->ObserveStream(ctx.get());
  for (int r = 0; r < 4; ++r) ASSERT_TRUE(stream->Write(full));
  v1::ObserveResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  ASSERT_TRUE(stream->Read(&resp));
  ASSERT_EQ(WaitReceived(40), 40u);  // the third waits for room, the fourth is held
  server_->core().BeginStop();
  gate->Release();
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_EQ(resp.accepted(), 10u);
  EXPECT_FALSE(stream->Read(&resp));
  const grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(s.error_message().find("3 requests (30 events)"), std::string::npos)
      << s.error_message();
  ASSERT_TRUE(WaitApplied(30));
  const v1::Stats st = Stats();
  EXPECT_EQ(st.events_accepted(), 30u);  // exactly what the client saw acknowledged
  EXPECT_EQ(st.events_rejected().at("unavailable"), 10u);
}

// The first step of a stop (what SIGTERM does before gRPC's Shutdown): a stream between
// requests ends at once, a stream with a request in flight finishes it (logged and
// acknowledged) and ends, each with UNAVAILABLE, its counts in the message and trailing
// metadata; a request read after the stop is not logged; new calls are refused.
TEST_F(ServerTest, StopEndsEachStreamWithItsAcknowledgedCount) {
  auto gate = RestartGated(30);
  auto request = TenEvents;
  v1::ObserveResponse resp;
  // Idle: one request acknowledged, then nothing in flight.
  auto idle_ctx = Ctx();
  auto idle = recommender_->ObserveStream(idle_ctx.get());
  ASSERT_TRUE(idle->Write(request()));
  ASSERT_TRUE(idle->Read(&resp));
  // Busy: two acknowledged (the queue is then full), the third parked for room.
  auto busy_ctx = Ctx();
  auto busy = recommender_->ObserveStream(busy_ctx.get());
  for (int r = 0; r < 3; ++r) ASSERT_TRUE(busy->Write(request()));
  ASSERT_TRUE(busy->Read(&resp));
  ASSERT_TRUE(busy->Read(&resp));
  ASSERT_EQ(WaitReceived(40), 40u);

  server_->core().BeginStop();
  auto trailer = [](grpc::ClientContext& ctx, const std::string& key) {
    const auto& m = ctx.GetServerTrailingMetadata();
    auto it = m.find(key);
    return it == m.end() ? std::string("none") : std::string(it->second.data(), it->second.size());
  };
  EXPECT_FALSE(idle->Read(&resp));
  grpc::Status s = idle->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(s.error_message().find("the server is shutting down; 1 request (10 events) of "
                                   "this stream was acknowledged; nothing after it"),
            std::string::npos)
      << s.error_message();
  EXPECT_NE(s.error_details().find(server::kReasonShuttingDown), std::string::npos);
  EXPECT_EQ(trailer(*idle_ctx, "streamrec-acknowledged-requests"), "1");
  EXPECT_EQ(trailer(*idle_ctx, "streamrec-acknowledged-events"), "10");

  // New calls are refused, not queued.
  v1::ObserveRequest one;
  *one.add_events() = MakeEvent("u", "A", 1);
  s = Observe(one);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(s.error_message().find("shutting down"), std::string::npos) << s.error_message();
  auto late_ctx = Ctx();
  auto late = recommender_->ObserveStream(late_ctx.get());
  late->Write(one);
  EXPECT_FALSE(late->Read(&resp));
  s = late->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(s.error_message().find("0 requests (0 events)"), std::string::npos)
      << s.error_message();

  // The busy stream's request in flight is logged and acknowledged once there is room;
  // a fourth request, written now, is never read.
  busy->Write(request());
  gate->Release();
  ASSERT_TRUE(busy->Read(&resp));
  EXPECT_EQ(resp.accepted(), 10u);
  EXPECT_FALSE(busy->Read(&resp));
  s = busy->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(s.error_message().find("3 requests (30 events)"), std::string::npos)
      << s.error_message();
  EXPECT_EQ(trailer(*busy_ctx, "streamrec-acknowledged-events"), "30");

  ASSERT_TRUE(WaitApplied(40));
  const v1::Stats st = Stats();
  EXPECT_EQ(st.events_accepted(), 40u);  // exactly what the clients saw acknowledged
  EXPECT_EQ(st.events_rejected().at("unavailable"), 1u);  // the unary Observe
  const server::GrpcServer::ShutdownReport report = server_->Shutdown();
  EXPECT_EQ(report.streams_ended, 2u);
  EXPECT_EQ(report.requests_acknowledged, 4u);
  EXPECT_EQ(report.events_acknowledged, 40u);
  EXPECT_EQ(report.streams_cut, 0u);
}

TEST_F(ServerTest, HealthAndModelInfo) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  for (const std::string service : {"", "streamrec.v1.Recommender"}) {
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    grpc::health::v1::HealthCheckResponse resp;
    ASSERT_TRUE(health->Check(Ctx().get(), req, &resp).ok()) << service;
    EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING) << service;
  }
  v1::ModelInfo info;
  ASSERT_TRUE(admin_->GetModelInfo(Ctx().get(), v1::GetModelInfoRequest(), &info).ok());
  EXPECT_EQ(info.config().hash_bits(), 18u);
  EXPECT_EQ(info.config().optimizer().kind(), v1::OptimizerConfig::FTRL);
  EXPECT_EQ(info.parameter_count(), (1u << 18) + 1);
  EXPECT_EQ(info.parameter_bytes(), ((1u << 18) + 1) * 4);
}

TEST_F(ServerTest, GeneratedStreamReachesNearGeneratorOptimum) {
  client::ClickStream gen(50, 40, /*seed=*/11);
  const int kEvents = 100000, kBatch = 500;
  auto ctx = Ctx(120);
  auto stream = recommender_->ObserveStream(ctx.get());
  std::thread writer([&] {
    for (int b = 0; b < kEvents / kBatch; ++b) {
      v1::ObserveRequest req;
      for (int i = 0; i < kBatch; ++i) {
        client::ClickEvent e = gen.Next();
        const std::string u = "u" + std::to_string(e.user), it = "i" + std::to_string(e.item);
        v1::Event ev = MakeEvent(u, it, e.label);
        SetCategory(ev.mutable_item()->mutable_features(), "user_x_item", u + "|" + it);
        *req.add_events() = ev;
      }
      ASSERT_TRUE(stream->Write(req));
    }
    stream->WritesDone();
  });
  v1::ObserveResponse resp;
  uint64_t acked = 0;
  while (stream->Read(&resp)) acked += resp.accepted();
  writer.join();
  ASSERT_TRUE(stream->Finish().ok());
  EXPECT_EQ(acked, uint64_t{kEvents});
  ASSERT_TRUE(WaitApplied(kEvents));
  const double optimum = gen.OptimalLogLoss();
  const double logloss = Stats().progressive().logloss();
  // Stated margin: progressive logloss over the whole stream, learning included, within
  // 0.04 nats of the generator's own optimum.
  EXPECT_LT(logloss, optimum + 0.04) << "optimum " << optimum;
  EXPECT_GT(logloss, optimum - 0.01);
}

}  // namespace
}  // namespace streamrec
