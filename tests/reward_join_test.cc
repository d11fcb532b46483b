// The feedback loop through a real gRPC server (server/reward_join.h): Predict logs its
// impression, a reward that names only the prediction_id is trained on the impression's
// features, the join's rules (unknown, not a candidate, duplicate), default rewards when
// the window closes (an injected clock), and a restart in the middle of a window.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "model/exploration.h"
#include "model/hash.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/server_fixture.h"
#include "tests/testing/temp_dir.h"

namespace streamrec {
namespace {

using testing::SetCategory;

class RewardJoinTest : public testing::ServerFixture {
 protected:
  void SetUp() override {}
  server::ServerOptions Options(bool data_dir) {
    server::ServerOptions o = testing::TestServerOptions();
    if (data_dir) o.core.storage.data_dir = dir_.path();
    o.core.join.window = std::chrono::seconds(10);
    o.core.join.clock = &clock_;
    return o;
  }
  // A request of three candidates with their own features, shared context.
  static v1::PredictRequest Request(int top_k = 0) {
    v1::PredictRequest req;
    SetCategory(req.mutable_context(), "user", "u1");
    (*req.mutable_context()->mutable_values())["age"].set_number(0.5);
    for (const char* id : {"a", "b", "c"}) {
      v1::Item* item = req.add_candidates();
      item->set_id(id);
      SetCategory(item->mutable_features(), "genre", std::string("g-") + id);
    }
    req.set_top_k(top_k);
    req.set_log_impression(true);
    return req;
  }
  static v1::Event Reward(const std::string& prediction_id, const std::string& item,
                          double label) {
    v1::Event e;
    e.set_prediction_id(prediction_id);
    e.mutable_item()->set_id(item);
    e.set_label(label);
    e.set_time_unix_ms(1767225600000 + 5);
    return e;
  }
  // FullEvent: candidate c of Request() as an event that carries its features.
  static v1::ObserveRequest FullEvent(int c, double label) {
    const v1::PredictRequest req = Request();
    v1::ObserveRequest full;
    v1::Event* e = full.add_events();
    *e->mutable_context() = req.context();
    *e->mutable_item() = req.candidates(c);
    e->set_label(label);
    e->set_time_unix_ms(1767225600000 + 5);
    return full;
  }
  std::string LoggedPrediction(int top_k = 0) {
    v1::PredictResponse resp;
    grpc::Status s = Predict(Request(top_k), &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(resp.impression_logged());
    return resp.prediction_id();
  }
  v1::ObserveResponse ObserveOk(const v1::ObserveRequest& req) {
    v1::ObserveResponse resp;
    grpc::Status s = Observe(req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }
  // Scores is what a model learned, seen through Predict (without logging).
  std::vector<double> Scores() {
    v1::PredictRequest req = Request();
    req.set_log_impression(false);
    v1::PredictResponse resp;
    EXPECT_TRUE(Predict(req, &resp).ok());
    std::vector<double> out(3);
    for (const v1::ScoredItem& i : resp.items()) out[i.index()] = i.score();
    return out;
  }

  testing::FakeClock clock_;
  testing::TempDir dir_;
};

// The joined reward trains exactly what the full event with the impression's features
// trains: the same scores afterwards, bit for bit (the features come from the impression,
// not from the reward, which has none).
TEST_F(RewardJoinTest, JoinedRewardTrainsTheImpressionsFeatures) {
  for (bool data_dir : {false, true}) {
    SCOPED_TRACE(data_dir ? "data dir" : "in memory");
    StartServer(Options(data_dir));
    const std::string id = LoggedPrediction();
    v1::ObserveRequest rewards;
    *rewards.add_events() = Reward(id, "b", 1);
    const v1::ObserveResponse resp = ObserveOk(rewards);
    EXPECT_EQ(resp.accepted(), 1u);
    EXPECT_EQ(resp.rewards_joined(), 1u);
    EXPECT_EQ(resp.rewards_dropped(), 0u);
    ASSERT_TRUE(WaitApplied(1));
    const std::vector<double> joined = Scores();

    server::ServerOptions plain = testing::TestServerOptions();
    StartServer(plain);
    EXPECT_EQ(ObserveOk(FullEvent(1, 1)).rewards_joined(), 0u);  // features: not a reward
    ASSERT_TRUE(WaitApplied(1));
    const std::vector<double> direct = Scores();
    EXPECT_EQ(joined, direct);
    // And training moved b's score away from the untrained one.
    StartServer(plain);
    EXPECT_NE(Scores()[1], joined[1]);
  }
}

// Each rule: unknown prediction ids, items that were not candidates and second rewards
// for one (prediction, item) are acknowledged, counted and not trained.
TEST_F(RewardJoinTest, UnknownNotCandidateAndDuplicateRewardsAreDroppedAndCounted) {
  StartServer(Options(true));
  const std::string id = LoggedPrediction();
  v1::ObserveRequest req;
  *req.add_events() = Reward(id, "a", 1);
  *req.add_events() = Reward(id, "a", 0);        // duplicate in the same request
  *req.add_events() = Reward(id, "zzz", 1);      // not a candidate
  *req.add_events() = Reward("no-such-id", "a", 1);  // unknown
  const v1::ObserveResponse resp = ObserveOk(req);
  EXPECT_EQ(resp.accepted(), 4u);
  EXPECT_EQ(resp.rewards_joined(), 1u);
  EXPECT_EQ(resp.rewards_dropped(), 3u);
  // A later request rewarding the same item again: a duplicate too.
  v1::ObserveRequest again;
  *again.add_events() = Reward(id, "a", 1);
  *again.add_events() = Reward(id, "c", 1);
  const v1::ObserveResponse resp2 = ObserveOk(again);
  EXPECT_EQ(resp2.rewards_joined(), 1u);
  EXPECT_EQ(resp2.rewards_dropped(), 1u);
  ASSERT_TRUE(WaitApplied(2));
  const v1::FeedbackStats fb = Stats().feedback();
  EXPECT_EQ(fb.impressions_logged(), 1u);
  EXPECT_EQ(fb.rewards_joined(), 2u);
  EXPECT_EQ(fb.rewards_dropped().at("duplicate"), 2u);
  EXPECT_EQ(fb.rewards_dropped().at("not_candidate"), 1u);
  EXPECT_EQ(fb.rewards_dropped().at("unknown"), 1u);
  EXPECT_EQ(Stats().events_applied(), 2u);  // only the joined ones were trained
}

// When the window closes, every shown item without a reward becomes a default event
// (label 0): top_k 2 shows a and b's order; one of them rewarded leaves one default.
// A reward after the window is unknown.
TEST_F(RewardJoinTest, ClosedWindowEmitsDefaultRewardsForShownItemsOnly) {
  StartServer(Options(true));
  v1::PredictResponse shown;
  ASSERT_TRUE(Predict(Request(2), &shown).ok());
  ASSERT_EQ(shown.items_size(), 2);
  const std::string id = shown.prediction_id();
  v1::ObserveRequest req;
  *req.add_events() = Reward(id, shown.items(0).id(), 1);
  ASSERT_EQ(ObserveOk(req).rewards_joined(), 1u);
  ASSERT_TRUE(WaitApplied(1));
  clock_.Advance(std::chrono::seconds(9));  // still open
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(Stats().feedback().defaults_emitted(), 0u);
  clock_.Advance(std::chrono::seconds(2));
  ASSERT_TRUE(WaitFor([&] { return Stats().feedback().impressions_closed() == 1; }));
  const v1::FeedbackStats fb = Stats().feedback();
  EXPECT_EQ(fb.defaults_emitted(), 1u);  // the second shown item; the third was not shown
  EXPECT_EQ(fb.impressions_live(), 0u);
  ASSERT_TRUE(WaitApplied(2));
  v1::ObserveRequest late;
  *late.add_events() = Reward(id, shown.items(1).id(), 1);
  EXPECT_EQ(ObserveOk(late).rewards_dropped(), 1u);
  EXPECT_EQ(Stats().feedback().rewards_dropped().at("unknown"), 1u);
}

// A restart in the middle of a window: what was joined stays joined (a second reward is
// a duplicate), the window closes after the restart with exactly the missing defaults,
// and the events trained are exactly the acknowledged ones.
TEST_F(RewardJoinTest, RestartInTheWindowNeitherLosesNorRepeats) {
  StartServer(Options(true));
  const std::string id = LoggedPrediction();
  v1::ObserveRequest req;
  *req.add_events() = Reward(id, "b", 1);
  ASSERT_EQ(ObserveOk(req).rewards_joined(), 1u);
  ASSERT_TRUE(WaitApplied(1));
  StartServer(Options(true));  // a clean restart on the same data dir
  EXPECT_EQ(Stats().feedback().impressions_live(), 1u);
  const v1::ObserveResponse again = ObserveOk(req);
  EXPECT_EQ(again.rewards_dropped(), 1u);  // joined before the restart
  clock_.Advance(std::chrono::seconds(11));
  ASSERT_TRUE(WaitFor([&] { return Stats().feedback().impressions_closed() == 1; }));
  EXPECT_EQ(Stats().feedback().defaults_emitted(), 2u);  // a and c
  StartServer(Options(true));
  ASSERT_TRUE(WaitApplied(3));
  EXPECT_EQ(Stats().feedback().impressions_live(), 0u);
  clock_.Advance(std::chrono::seconds(11));
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(Stats().feedback().defaults_emitted(), 0u);  // nothing emitted twice
  v1::ModelInfo info;
  admin_->GetModelInfo(Ctx().get(), v1::GetModelInfoRequest(), &info);
  EXPECT_EQ(info.events_applied(), 3u);
}

// Without log_impression (and no server default) nothing is stored, and the answer
// says so; a request may also opt out of a server default.
TEST_F(RewardJoinTest, LoggingIsPerRequestOrTheServerDefault) {
  server::ServerOptions o = Options(true);
  StartServer(o);
  v1::PredictRequest req = Request();
  req.clear_log_impression();
  v1::PredictResponse resp;
  ASSERT_TRUE(Predict(req, &resp).ok());
  EXPECT_FALSE(resp.impression_logged());
  o.core.join.log_by_default = true;
  StartServer(o);
  ASSERT_TRUE(Predict(req, &resp).ok());
  EXPECT_TRUE(resp.impression_logged());
  req.set_log_impression(false);
  ASSERT_TRUE(Predict(req, &resp).ok());
  EXPECT_FALSE(resp.impression_logged());
  EXPECT_EQ(Stats().feedback().impressions_logged(), 1u);
}

}  // namespace
}  // namespace streamrec

namespace streamrec {
namespace {

// Exploration through a real server: every returned item carries its propensity, the
// first one is exactly the policy's first-slot probability for the scores served, the
// order is reproducible from the prediction id (the seed), and greedy sets none.
TEST_F(RewardJoinTest, ExplorationReturnsReproduciblePropensities) {
  server::ServerOptions o = Options(true);
  o.core.model.exploration.kind = model::ExplorationKind::kSoftmax;
  o.core.model.exploration.temperature = 0.2;
  StartServer(o);
  ObserveOk(FullEvent(1, 1));  // b a little ahead of the others
  ASSERT_TRUE(WaitApplied(1));
  int first_not_best = 0;
  for (int round = 0; round < 40; ++round) {
    v1::PredictResponse resp;
    ASSERT_TRUE(Predict(Request(), &resp).ok());
    ASSERT_EQ(resp.items_size(), 3);
    std::vector<double> scores(3);
    for (const v1::ScoredItem& i : resp.items()) {
      ASSERT_TRUE(i.has_propensity());
      EXPECT_GT(i.propensity(), 0.0);
      EXPECT_LE(i.propensity(), 1.0);
      scores[i.index()] = i.score();
    }
    std::vector<double> first;
    model::FirstSlotProbabilities(o.core.model.exploration, scores, first);
    EXPECT_EQ(resp.items(0).propensity(), first[resp.items(0).index()]);
    std::vector<uint32_t> order;
    std::vector<double> propensity;
    model::Rank(o.core.model.exploration, scores, 0, model::HashName(resp.prediction_id()),
                order, propensity);
    for (int r = 0; r < 3; ++r) {
      EXPECT_EQ(order[r], resp.items(r).index());
      EXPECT_EQ(propensity[r], resp.items(r).propensity());
    }
    if (resp.items(0).score() < std::max({scores[0], scores[1], scores[2]})) ++first_not_best;
  }
  EXPECT_GT(first_not_best, 0);  // it explored
  StartServer(Options(true));  // greedy: no propensity, as before exploration existed
  v1::PredictResponse resp;
  ASSERT_TRUE(Predict(Request(), &resp).ok());
  for (const v1::ScoredItem& i : resp.items()) EXPECT_FALSE(i.has_propensity());
}

}  // namespace
}  // namespace streamrec

namespace streamrec {
namespace {

// More impressions close at once than one log group takes (256): they close over several
// groups, each exactly once, and impressions logged after a close are found by the next
// scans (which start where the last one ended).
TEST_F(RewardJoinTest, ManyWindowsCloseOverSeveralGroupsExactlyOnce) {
  StartServer(Options(true));
  for (int i = 0; i < 600; ++i) LoggedPrediction(1);
  clock_.Advance(std::chrono::seconds(11));
  ASSERT_TRUE(WaitFor([&] { return Stats().feedback().impressions_closed() == 600; }));
  for (int i = 0; i < 5; ++i) LoggedPrediction(1);
  clock_.Advance(std::chrono::seconds(11));
  ASSERT_TRUE(WaitFor([&] { return Stats().feedback().impressions_closed() == 605; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const v1::FeedbackStats fb = Stats().feedback();
  EXPECT_EQ(fb.impressions_closed(), 605u);
  EXPECT_EQ(fb.defaults_emitted(), 605u);
  EXPECT_EQ(fb.impressions_live(), 0u);
  ASSERT_TRUE(WaitApplied(605));
}

}  // namespace
}  // namespace streamrec

namespace streamrec {
namespace {

// An event that carries its features and names a logged prediction is trained on its own
// features, and settles its item: no default reward for it when the window closes, and a
// later label-only reward for it is a duplicate.
TEST_F(RewardJoinTest, FullEventWithPredictionIdSettlesItsItem) {
  StartServer(Options(true));
  const std::string id = LoggedPrediction();
  v1::ObserveRequest full = FullEvent(1, 1);
  full.mutable_events(0)->set_prediction_id(id);
  const v1::ObserveResponse resp = ObserveOk(full);
  EXPECT_EQ(resp.rewards_joined(), 0u);
  EXPECT_EQ(resp.rewards_dropped(), 0u);
  v1::ObserveRequest again;
  *again.add_events() = Reward(id, "b", 1);
  EXPECT_EQ(ObserveOk(again).rewards_dropped(), 1u);
  clock_.Advance(std::chrono::seconds(11));
  ASSERT_TRUE(WaitFor([&] { return Stats().feedback().impressions_closed() == 1; }));
  EXPECT_EQ(Stats().feedback().defaults_emitted(), 2u);  // a and c, not b
  ASSERT_TRUE(WaitApplied(3));
}

}  // namespace
}  // namespace streamrec

namespace streamrec {
namespace {

// A reward whose event_id repeats a logged event is a duplicate event: neither trained
// nor joined, so its item stays open for a retry with a new id (found by the hostile
// pass: it was counted joined, not trained, and its item closed). A client time far in
// the future does not swamp the join latency (clamped to the window).
TEST_F(RewardJoinTest, DuplicateEventIdRewardIsNotJoined) {
  server::ServerOptions o = Options(true);
  o.core.dedup_window = 1000;
  StartServer(o);
  const std::string id = LoggedPrediction();
  v1::ObserveRequest plain = FullEvent(0, 0);
  plain.mutable_events(0)->set_event_id("E1");
  ObserveOk(plain);
  v1::ObserveRequest dup;
  *dup.add_events() = Reward(id, "b", 1);
  dup.mutable_events(0)->set_event_id("E1");
  v1::ObserveResponse resp = ObserveOk(dup);
  EXPECT_EQ(resp.duplicates(), 1u);
  EXPECT_EQ(resp.rewards_joined(), 0u);
  v1::ObserveRequest retry;
  *retry.add_events() = Reward(id, "b", 1);
  retry.mutable_events(0)->set_event_id("E2");
  retry.mutable_events(0)->set_time_unix_ms(int64_t{1} << 62);
  resp = ObserveOk(retry);
  EXPECT_EQ(resp.rewards_joined(), 1u);
  ASSERT_TRUE(WaitApplied(2));
  const v1::FeedbackStats fb = Stats().feedback();
  EXPECT_EQ(fb.rewards_joined(), 1u);
  EXPECT_LE(fb.join_latency_max_ms(), 10000u);
}

}  // namespace
}  // namespace streamrec
