// Ranker (server/ranker.h) on a real model's snapshots in a SnapshotSlot: best first
// with scores and candidate indices, ties in candidate order, top_k (0, within, beyond
// the candidates), invalid requests refused without counting or answering, the served
// snapshot's version, unique prediction ids, counters, and thread-local buffers reused
// across requests of different sizes and threads.
#include "server/ranker.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "model/model.h"
#include "server/core/snapshot_slot.h"

namespace streamrec::server {
namespace {

class RankerTest : public ::testing::Test {
 protected:
  RankerTest() {
    model::ModelConfig config;
    config.hash_bits = 12;
    model_ = *model::CreateModel(config);
    Publish(1);
  }

  void Publish(uint64_t version) { slot_.Exchange(model_->Publish(version, 0, nullptr)); }

  // Train: `n` events of (user, item, label) through the converter, so they hash as
  // Predict's candidates do.
  void Train(const std::string& user, const std::string& item, double label, int n) {
    v1::ObserveRequest req;
    for (int i = 0; i < n; ++i) {
      v1::Event* e = req.add_events();
      (*e->mutable_context()->mutable_values())["user"].set_category(user);
      e->mutable_item()->set_id(item);
      e->set_label(label);
    }
    auto batch = converter_.ConvertObserve(req);
    ASSERT_TRUE(batch.ok()) << batch.status();
    for (const model::Example& ex : (*batch)->examples) model_->Train(ex);
  }

  static v1::PredictRequest Request(const std::vector<std::string>& items, uint32_t top_k = 0) {
    v1::PredictRequest req;
    (*req.mutable_context()->mutable_values())["user"].set_category("u");
    for (const std::string& id : items) req.add_candidates()->set_id(id);
    req.set_top_k(top_k);
    return req;
  }

  static std::vector<std::string> Ids(const v1::PredictResponse& resp) {
    std::vector<std::string> ids;
    for (const v1::ScoredItem& item : resp.items()) ids.push_back(item.id());
    return ids;
  }

  Limits limits_;
  VectorDims dims_;
  RequestConverter converter_{limits_, &dims_};
  std::unique_ptr<model::Model> model_;
  core::SnapshotSlot slot_;
  Ranker ranker_{&converter_, &slot_};
};

TEST_F(RankerTest, RanksBestFirstWithScoresIndicesAndVersion) {
  Train("u", "good", 1, 50);
  Train("u", "bad", 0, 50);
  Publish(7);
  v1::PredictResponse resp;
  ASSERT_TRUE(ranker_.Predict(Request({"bad", "new", "good"}), resp).ok());
  EXPECT_EQ(Ids(resp), (std::vector<std::string>{"good", "new", "bad"}));
  ASSERT_EQ(resp.items_size(), 3);
  EXPECT_EQ(resp.items(0).index(), 2u);
  EXPECT_EQ(resp.items(1).index(), 1u);
  EXPECT_EQ(resp.items(2).index(), 0u);
  EXPECT_GT(resp.items(0).score(), resp.items(1).score());
  EXPECT_GT(resp.items(1).score(), resp.items(2).score());
  EXPECT_EQ(resp.model_version(), 7u);
  // The score is the model's prediction for the same features.
  PredictInput input;
  ASSERT_TRUE(converter_.ConvertPredict(Request({"good"}), input).ok());
  model::FeatureVector all = input.context;
  all.insert(all.end(), input.items[0].begin(), input.items[0].end());
  EXPECT_NEAR(resp.items(0).score(), model_->Predict(all), 1e-9);
}

TEST_F(RankerTest, TiesKeepCandidateOrder) {
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.push_back("c" + std::to_string(i));
  v1::PredictResponse resp;
  ASSERT_TRUE(ranker_.Predict(Request(ids), resp).ok());  // untrained: all 0.5
  EXPECT_EQ(Ids(resp), ids);
  for (int i = 0; i < resp.items_size(); ++i) EXPECT_EQ(resp.items(i).index(), uint32_t(i));
  v1::PredictResponse top;
  ASSERT_TRUE(ranker_.Predict(Request(ids, 3), top).ok());  // partial sort, same rule
  EXPECT_EQ(Ids(top), (std::vector<std::string>{"c0", "c1", "c2"}));
  // One better item moves up; the tied rest keep their order around it.
  Train("u", "c12", 1, 20);
  Publish(2);
  v1::PredictResponse mixed;
  ASSERT_TRUE(ranker_.Predict(Request({"c3", "c1", "c12", "c7"}), mixed).ok());
  EXPECT_EQ(Ids(mixed), (std::vector<std::string>{"c12", "c3", "c1", "c7"}));
}

TEST_F(RankerTest, TopKCutsTheRanking) {
  Train("u", "a", 1, 30);
  Train("u", "b", 1, 10);
  Train("u", "d", 0, 30);
  Publish(2);
  const std::vector<std::string> items = {"d", "c", "b", "a"};
  v1::PredictResponse all, two, one, beyond;
  ASSERT_TRUE(ranker_.Predict(Request(items, 0), all).ok());
  ASSERT_TRUE(ranker_.Predict(Request(items, 2), two).ok());
  ASSERT_TRUE(ranker_.Predict(Request(items, 1), one).ok());
  ASSERT_TRUE(ranker_.Predict(Request(items, 100), beyond).ok());
  EXPECT_EQ(Ids(all), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(Ids(two), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Ids(one), (std::vector<std::string>{"a"}));
  EXPECT_EQ(Ids(beyond), Ids(all));
  EXPECT_EQ(two.items(1).score(), all.items(1).score());
  // top_k cuts the answer, not the work: every candidate was scored.
  EXPECT_EQ(ranker_.candidates(), 16u);
  EXPECT_EQ(ranker_.requests(), 4u);
}

TEST_F(RankerTest, InvalidRequestsAreRefusedUncountedAndUnanswered) {
  Limits small;
  small.max_candidates = 3;
  RequestConverter converter(small, &dims_);
  Ranker ranker(&converter, &slot_);
  std::vector<v1::PredictRequest> bad = {
      Request({}),                    // no candidates
      Request({"a", "b", "c", "d"}),  // above max_candidates
      Request({"a", "b", "a"}),       // duplicate id
      Request({"a", ""}),             // empty id
  };
  v1::PredictRequest reserved = Request({"a"});
  (*reserved.mutable_context()->mutable_values())["item_id"].set_category("x");
  bad.push_back(reserved);
  for (const v1::PredictRequest& req : bad) {
    v1::PredictResponse resp;
    absl::Status s = ranker.Predict(req, resp);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << req.DebugString();
    EXPECT_EQ(resp.items_size(), 0);
    EXPECT_EQ(resp.prediction_id(), "");
  }
  EXPECT_EQ(ranker.requests(), 0u);
  EXPECT_EQ(ranker.candidates(), 0u);
  v1::PredictResponse resp;
  absl::Status s = ranker.Predict(Request({"a", "b", "a"}), resp);
  EXPECT_NE(s.message().find("candidates[2].id"), std::string::npos) << s;
  // A valid request after the refusals is answered normally.
  ASSERT_TRUE(ranker.Predict(Request({"a", "b", "c"}), resp).ok());
  EXPECT_EQ(ranker.requests(), 1u);
  EXPECT_EQ(ranker.candidates(), 3u);
}

TEST_F(RankerTest, PredictionIdsAreUniqueWithAPerRankerPrefix) {
  std::set<std::string> ids;
  std::string prefix;
  for (int i = 0; i < 50; ++i) {
    v1::PredictResponse resp;
    ASSERT_TRUE(ranker_.Predict(Request({"a"}), resp).ok());
    const std::string& id = resp.prediction_id();
    ASSERT_GT(id.size(), 17u);
    ASSERT_EQ(id[16], '-') << id;
    if (i == 0) prefix = id.substr(0, 16);
    EXPECT_EQ(id.substr(0, 16), prefix);
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 50u);
  Ranker other(&converter_, &slot_);
  v1::PredictResponse resp;
  ASSERT_TRUE(other.Predict(Request({"a"}), resp).ok());
  EXPECT_NE(resp.prediction_id().substr(0, 16), prefix);  // random per instance
}

TEST_F(RankerTest, ScoresWithTheNewestSnapshot) {
  v1::PredictResponse before;
  ASSERT_TRUE(ranker_.Predict(Request({"a"}), before).ok());
  EXPECT_EQ(before.model_version(), 1u);
  Train("u", "a", 1, 30);
  Publish(2);
  v1::PredictResponse after;
  ASSERT_TRUE(ranker_.Predict(Request({"a"}), after).ok());
  EXPECT_EQ(after.model_version(), 2u);
  EXPECT_GT(after.items(0).score(), before.items(0).score());
}

// The per-thread buffers are resized for each request: a small request after a big one
// returns only its own candidates, on any thread.
TEST_F(RankerTest, BuffersAreReusedAcrossRequestSizesAndThreads) {
  Train("u", "c5", 1, 30);
  Publish(2);
  auto check = [this](int n, int top_k) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) ids.push_back("c" + std::to_string(i));
    v1::PredictResponse resp;
    EXPECT_TRUE(ranker_.Predict(Request(ids, top_k), resp).ok());
    const int want = top_k == 0 ? n : std::min(n, top_k);
    EXPECT_EQ(resp.items_size(), want);
    std::set<uint32_t> seen;
    for (const v1::ScoredItem& item : resp.items()) {
      EXPECT_LT(item.index(), static_cast<uint32_t>(n));
      EXPECT_EQ(item.id(), ids[item.index()]);
      seen.insert(item.index());
    }
    EXPECT_EQ(seen.size(), static_cast<size_t>(want));
    if (n > 5) {
      EXPECT_EQ(resp.items(0).id(), "c5");
    }
  };
  check(200, 0);
  check(3, 0);
  check(50, 10);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) check(1 + (i * 7 + t) % 60, i % 3 == 0 ? 5 : 0);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ranker_.requests(), 403u);
}

}  // namespace
}  // namespace streamrec::server
