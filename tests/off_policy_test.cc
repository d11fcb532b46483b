// Off-policy evaluation (client/off_policy.h): the estimators on tiny hand-computed
// inputs and their errors; the synthetic check where the truth is known (IPS, SNIPS, DR
// within 5% with covering CIs, naive failing on the scenario built to bias it); the Open
// Bandit Dataset reader's errors (client/obd_reader.h); and the OBD smoke path on
// /work/shared/data/open-bandit-small when it is present.
#include "client/off_policy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <string>
#include <vector>

#include "client/bandit_simulator.h"
#include "client/obd_evaluation.h"
#include "client/obd_reader.h"

namespace streamrec::client {
namespace {

LoggedRound R(int action, double reward, double p_log, double p_target) {
  LoggedRound r;
  r.action = action;
  r.reward = reward;
  r.p_log = p_log;
  r.p_target = p_target;
  return r;
}

// Three rounds: w = 2, 0, 4; w r = 2, 0, 0.
std::vector<LoggedRound> Tiny() {
  return {R(0, 1, 0.5, 1), R(1, 1, 0.5, 0), R(0, 0, 0.25, 1)};
}

TEST(OffPolicyTest, IpsByHand) {
  const Estimate e = EstimateIps(Tiny());
  ASSERT_TRUE(e.ok()) << e.error;
  EXPECT_DOUBLE_EQ(e.value, 2.0 / 3);
  // sample sd of {2, 0, 0}: sqrt(((4/3)^2 + 2 (2/3)^2) / 2) = sqrt(4/3); SE = that / sqrt(3).
  EXPECT_NEAR(e.std_error, std::sqrt(4.0 / 3) / std::sqrt(3.0), 1e-12);
  EXPECT_NEAR(e.ci_low, e.value - kZ95 * e.std_error, 1e-12);
  EXPECT_NEAR(e.ci_high, e.value + kZ95 * e.std_error, 1e-12);
  EXPECT_EQ(e.rounds, 3u);
  EXPECT_DOUBLE_EQ(e.mean_weight, 2);
  EXPECT_DOUBLE_EQ(e.max_weight, 4);
  EXPECT_DOUBLE_EQ(e.effective_rounds, 36.0 / 20);
}

TEST(OffPolicyTest, SnipsByHand) {
  const Estimate e = EstimateSnips(Tiny());
  ASSERT_TRUE(e.ok()) << e.error;
  EXPECT_DOUBLE_EQ(e.value, 2.0 / 6);  // sum w r / sum w
  // delta method: mean(w^2 (r - V)^2) = (4 (2/3)^2 + 0 + 16 (1/3)^2) / 3 = 32/27;
  // SE = sqrt(32/27) / mean(w) / sqrt(3), mean(w) = 2.
  EXPECT_NEAR(e.std_error, std::sqrt(32.0 / 27) / 2 / std::sqrt(3.0), 1e-12);
  EXPECT_LT(e.ci_low, e.value);
  EXPECT_GT(e.ci_high, e.value);
}

TEST(OffPolicyTest, DrByHand) {
  std::vector<LoggedRound> rounds = Tiny();
  // q_target + w (r - q_logged): 0.5 + 2 (1 - 0.5) = 1.5; 0.3 + 0 = 0.3; 0.5 + 4 (0 - 0.25) = -0.5.
  rounds[0].q_logged = 0.5, rounds[0].q_target = 0.5;
  rounds[1].q_logged = 0.2, rounds[1].q_target = 0.3;
  rounds[2].q_logged = 0.25, rounds[2].q_target = 0.5;
  const Estimate e = EstimateDr(rounds);
  ASSERT_TRUE(e.ok()) << e.error;
  EXPECT_NEAR(e.value, (1.5 + 0.3 - 0.5) / 3, 1e-12);
  const double m = e.value;
  const double var = ((1.5 - m) * (1.5 - m) + (0.3 - m) * (0.3 - m) + (-0.5 - m) * (-0.5 - m)) / 2;
  EXPECT_NEAR(e.std_error, std::sqrt(var / 3), 1e-12);
}

TEST(OffPolicyTest, DrWithAPerfectModelIsTheDirectMethod) {
  // When q is exact for every logged action, the residual term has mean zero per round
  // only in expectation; with r == q exactly it vanishes and DR is the direct method.
  std::vector<LoggedRound> rounds = {R(0, 1, 0.5, 1), R(1, 0, 0.5, 0)};
  for (auto& r : rounds) r.q_logged = r.reward, r.q_target = 0.7;
  EXPECT_DOUBLE_EQ(EstimateDr(rounds).value, 0.7);
}

TEST(OffPolicyTest, NaiveIsTheMeanRewardWhereTheTargetAgrees) {
  const Estimate e = EstimateNaive(Tiny());
  ASSERT_TRUE(e.ok()) << e.error;
  EXPECT_DOUBLE_EQ(e.value, 0.5);  // rounds 0 and 2 agree: rewards 1, 0
}

TEST(OffPolicyTest, OnPolicyIsTheMeanReward) {
  const Estimate e = EstimateOnPolicy(Tiny());
  EXPECT_DOUBLE_EQ(e.value, 2.0 / 3);
  const Estimate one = EstimateOnPolicy({R(0, 1, 1, 1)});
  EXPECT_DOUBLE_EQ(one.std_error, 0);
}

TEST(OffPolicyTest, Errors) {
  EXPECT_NE(EstimateIps({}).error.find("no logged rounds"), std::string::npos);
  EXPECT_FALSE(EstimateSnips({}).ok());
  EXPECT_FALSE(EstimateDr({}).ok());
  EXPECT_FALSE(EstimateNaive({}).ok());
  EXPECT_FALSE(EstimateOnPolicy({}).ok());

  std::vector<LoggedRound> rounds = Tiny();
  rounds[2].p_log = 0;
  rounds[2].source = "log.csv:4";
  for (const Estimate& e : {EstimateIps(rounds), EstimateSnips(rounds), EstimateNaive(rounds)}) {
    EXPECT_FALSE(e.ok());
    EXPECT_NE(e.error.find("round 2 (log.csv:4)"), std::string::npos) << e.error;
    EXPECT_NE(e.error.find("logging propensity 0"), std::string::npos) << e.error;
    EXPECT_TRUE(std::isnan(e.value));
  }
  rounds = Tiny();
  rounds[1].p_log = 1.5;
  EXPECT_NE(EstimateIps(rounds).error.find("round 1"), std::string::npos);
  rounds = Tiny();
  rounds[0].p_target = -0.1;
  EXPECT_NE(EstimateIps(rounds).error.find("target probability"), std::string::npos);
  rounds = Tiny();
  rounds[0].reward = std::nan("");
  EXPECT_NE(EstimateIps(rounds).error.find("not finite"), std::string::npos);
  // DR without its reward-model terms.
  EXPECT_NE(EstimateDr(Tiny()).error.find("reward-model"), std::string::npos);
  EXPECT_EQ(EstimateAll(Tiny()).size(), 3u);  // IPS, SNIPS, naive: no DR
  // SNIPS and naive when the target never plays a logged action.
  const std::vector<LoggedRound> none = {R(0, 1, 0.5, 0)};
  EXPECT_FALSE(EstimateSnips(none).ok());
  EXPECT_FALSE(EstimateNaive(none).ok());
  EXPECT_DOUBLE_EQ(EstimateIps(none).value, 0);
}

TEST(OffPolicyTest, RewardModelShrinksTowardCoarserMeans) {
  std::vector<LoggedRound> rounds = {R(0, 1, 1, 1), R(0, 1, 1, 1), R(1, 0, 1, 1), R(1, 0, 1, 1)};
  rounds[0].context = 7;
  // Global mean 0.5; action 0: (2 + 2 * 0.5) / (2 + 2) = 0.75; action 1: 0.25.
  const RewardModel flat = RewardModel::Fit(rounds, {.by_context = false, .prior_rounds = 2});
  EXPECT_DOUBLE_EQ(flat.Predict(7, 0, 0), 0.75);
  EXPECT_DOUBLE_EQ(flat.Predict(0, 1, 0), 0.25);
  EXPECT_DOUBLE_EQ(flat.Predict(0, 5, 0), 0.5);  // never logged: the global mean
  // By context: (context 7, action 0) has one round: (1 + 2 * 0.75) / 3.
  const RewardModel ctx = RewardModel::Fit(rounds, {.by_context = true, .prior_rounds = 2});
  EXPECT_DOUBLE_EQ(ctx.Predict(7, 0, 0), 2.5 / 3);
  EXPECT_DOUBLE_EQ(ctx.Predict(9, 0, 0), 0.75);  // unseen context: the action's mean

  FillDirectTerms(flat, [](const LoggedRound&) {
    return std::vector<std::pair<int32_t, double>>{{0, 0.5}, {1, 0.5}};
  }, rounds);
  EXPECT_DOUBLE_EQ(rounds[0].q_logged, 0.75);
  EXPECT_DOUBLE_EQ(rounds[0].q_target, 0.5);
  EXPECT_TRUE(EstimateDr(rounds).ok());
}

// The synthetic check of issue 13: 200,000 uniform-random rounds, with the seed
// `streamrec evaluate --synthetic` uses by default (the README's figures).
constexpr uint64_t kSeed = 3;

void ExpectEstimatorsPass(const SyntheticCheck& c) {
  ASSERT_EQ(c.estimates.size(), 4u);
  for (const Estimate& e : c.estimates) {
    if (e.estimator == "naive") continue;
    ASSERT_TRUE(e.ok()) << e.error;
    EXPECT_TRUE(SyntheticCheck::Passes(e, c.truth))
        << e.estimator << " " << e.value << " [" << e.ci_low << ", " << e.ci_high
        << "] truth " << c.truth;
  }
  // The simulated on-policy run agrees with the exact truth.
  const double se = std::sqrt(c.truth * (1 - c.truth) / c.simulated_rounds);
  EXPECT_NEAR(c.truth_simulated, c.truth, 4 * se);
}

TEST(OffPolicySyntheticTest, UniformScenario) {
  const SyntheticCheck c = RunSyntheticCheck(BanditSimulator::Scenario::kUniform, 200000, kSeed);
  ExpectEstimatorsPass(c);
  // The target is better than the logger; naive equals SNIPS here (p_log is constant).
  EXPECT_GT(c.truth, c.logger_value * 1.2);
  EXPECT_NEAR(c.estimates[3].value, c.estimates[1].value, 1e-12);
}

TEST(OffPolicySyntheticTest, BiasedScenarioFailsOnlyTheNaiveEstimator) {
  const SyntheticCheck c = RunSyntheticCheck(BanditSimulator::Scenario::kBiased, 200000, kSeed);
  ExpectEstimatorsPass(c);
  const Estimate& naive = c.estimates[3];
  ASSERT_EQ(naive.estimator, "naive");
  EXPECT_FALSE(SyntheticCheck::Passes(naive, c.truth));
  EXPECT_GT(std::abs(naive.value - c.truth), 0.25 * c.truth) << naive.value << " " << c.truth;
  EXPECT_FALSE(naive.Covers(c.truth));
}

TEST(OffPolicySyntheticTest, CoverageOverSeeds) {
  // A 95% interval misses the truth 1 time in 20 (seed 1 is such a case: biased IPS,
  // z = 2.0), so over 40 other seeds (simulator and log) count the misses per estimator
  // and scenario rather than demand none. Naive never passes the biased scenario.
  constexpr int kSeeds = 40;
  int covered[2][3] = {};
  for (uint64_t seed = 101; seed < 101 + kSeeds; ++seed) {
    for (int s = 0; s < 2; ++s) {
      const auto scenario =
          s == 0 ? BanditSimulator::Scenario::kUniform : BanditSimulator::Scenario::kBiased;
      const SyntheticCheck c = RunSyntheticCheck(scenario, 200000, seed);
      for (int i = 0; i < 3; ++i) {
        covered[s][i] += SyntheticCheck::Passes(c.estimates[i], c.truth);
      }
      if (s == 1) {
        EXPECT_FALSE(SyntheticCheck::Passes(c.estimates[3], c.truth)) << seed;
      }
    }
  }
  for (int s = 0; s < 2; ++s) {
    for (int i = 0; i < 3; ++i) {
      EXPECT_GE(covered[s][i], 34) << "scenario " << s << " estimator " << i;  // expect 38
    }
  }
}

TEST(OffPolicySyntheticTest, DrStaysUnbiasedWithAWrongRewardModel) {
  BanditSimulator sim({.scenario = BanditSimulator::Scenario::kBiased, .seed = 3});
  std::vector<LoggedRound> log = sim.LogUniform(200000, 3);
  for (auto& r : log) r.q_logged = 0.9, r.q_target = 0.9;  // badly wrong everywhere
  const Estimate dr = EstimateDr(log);
  EXPECT_TRUE(SyntheticCheck::Passes(dr, sim.TrueValue()))
      << dr.value << " truth " << sim.TrueValue();
}

TEST(OffPolicySyntheticTest, Deterministic) {
  const auto a = RunSyntheticCheck(BanditSimulator::Scenario::kUniform, 1000, 9);
  const auto b = RunSyntheticCheck(BanditSimulator::Scenario::kUniform, 1000, 9);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(a.estimates[i].value, b.estimates[i].value);
}

// The Open Bandit Dataset reader.

class ObdReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("obd_reader_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }
  std::string ReadError(const std::string& text, int64_t items = 0) {
    ObdLog log;
    return ReadObdLog(Write("log.csv", text), items, log);
  }
  std::filesystem::path dir_;
};

constexpr char kHeader[] = ",timestamp,item_id,position,click,propensity_score,user_feature_0\n";

TEST_F(ObdReaderTest, ReadsRows) {
  ObdLog log;
  const std::string path = Write("log.csv", std::string(kHeader) +
                                                "0,2019-11-24 00:01:03+00:00,2,2,0,0.5,abc\r\n"
                                                "\n"
                                                "1,\"2019-11-24, quoted\",3,1,1,1,\"x\"\"y\"\n");
  ASSERT_EQ(ReadObdLog(path, 0, log), "");
  ASSERT_EQ(log.rows.size(), 2u);
  EXPECT_EQ(log.rows[0].item_id, 2);
  EXPECT_EQ(log.rows[0].position, 2);
  EXPECT_EQ(log.rows[0].click, 0);
  EXPECT_DOUBLE_EQ(log.rows[0].propensity, 0.5);
  EXPECT_EQ(log.rows[0].line, 2u);
  EXPECT_EQ(log.rows[1].line, 4u);
  EXPECT_EQ(log.clicks, 1u);
  // Columns in any order, and action_prob for propensity_score.
  const std::string other = Write("o.csv", "click,action_prob,position,item_id\n1,0.25,3,0\n");
  ASSERT_EQ(ReadObdLog(other, 0, log), "");
  EXPECT_DOUBLE_EQ(log.rows[0].propensity, 0.25);
}

TEST_F(ObdReaderTest, ErrorsNameFileLineAndColumn) {
  const std::string row = "0,t,2,2,0,0.5,a\n";
  auto expect = [&](const std::string& text, const std::string& want, int64_t items = 0) {
    const std::string err = ReadError(text, items);
    EXPECT_NE(err.find(want), std::string::npos) << "got: " << err << "\nwant: " << want;
    EXPECT_NE(err.find("log.csv"), std::string::npos) << err;
  };
  expect("", "empty file");
  expect(kHeader, "no impressions");
  expect(",timestamp,item_id,position,click,user_feature_0\n0,t,1,1,0,a\n",
         ":1: no column \"propensity_score\" (or \"action_prob\") in the header");
  expect(std::string(kHeader) + row + "1,t,x,2,0,0.5,a\n", ":3: column \"item_id\": \"x\"");
  expect(std::string(kHeader) + "1,t,-1,2,0,0.5,a\n", ":2: column \"item_id\": \"-1\"");
  expect(std::string(kHeader) + "1,t,99999999999999999999,2,0,0.5,a\n", "column \"item_id\"");
  expect(std::string(kHeader) + "1,t,5,2,0,0.5,a\n", "item_context.csv has 5 items", 5);
  expect(std::string(kHeader) + "1,t,1,0,0,0.5,a\n", ":2: column \"position\": \"0\"");
  expect(std::string(kHeader) + "1,t,1,1,2,0.5,a\n", ":2: column \"click\": \"2\" is not 0 or 1");
  expect(std::string(kHeader) + "1,t,1,1,1,abc,a\n",
         ":2: column \"propensity_score\": \"abc\" is not a number");
  expect(std::string(kHeader) + "1,t,1,1,1,nan,a\n", "is not a number");
  expect(std::string(kHeader) + "1,t,1,1,1,0,a\n", "\"0\" is not in (0, 1]");
  expect(std::string(kHeader) + "1,t,1,1,1,1.5,a\n", "\"1.5\" is not in (0, 1]");
  expect(std::string(kHeader) + "1,t,1,1,1,0.5\n", ":2: 6 fields, the header has 7");
  expect(std::string(kHeader) + "1,\"t,1,1,1,0.5,a\n", ":2: unterminated quote");
  expect(std::string(kHeader) + std::string(2 << 20, 'x') + "\n", ":2: line longer than 1 MiB");
  ObdLog log;
  EXPECT_NE(ReadObdLog((dir_ / "missing.csv").string(), 0, log).find("cannot open"),
            std::string::npos);
}

TEST_F(ObdReaderTest, ItemContext) {
  int64_t items = 0;
  EXPECT_EQ(ReadObdItemCount(Write("ic.csv", ",item_id,item_feature_0\n0,1,a\n1,0,b\n"), items), "");
  EXPECT_EQ(items, 2);
  EXPECT_NE(ReadObdItemCount(Write("ic2.csv", ",item_id\n0,0\n1,0\n"), items).find("listed twice"),
            std::string::npos);
  EXPECT_NE(ReadObdItemCount(Write("ic3.csv", ",item_id\n0,0\n1,7\n"), items).find("not 0..1"),
            std::string::npos);
  EXPECT_NE(ReadObdItemCount(Write("ic4.csv", "x\n1\n"), items).find("no column \"item_id\""),
            std::string::npos);
  // A campaign directory: the log bounded by its item_context.csv.
  Write("random/men/item_context.csv", ",item_id\n0,0\n1,1\n");
  Write("random/men/men.csv", std::string(kHeader) + "0,t,2,1,0,0.5,a\n");
  ObdLog log;
  const std::string err = ReadObdCampaign((dir_ / "random").string(), "men", log);
  EXPECT_NE(err.find("men.csv:2: column \"item_id\": \"2\""), std::string::npos) << err;
  EXPECT_EQ(ObdCampaigns((dir_ / "random").string()), std::vector<std::string>{"men"});
}

TEST(ObdEvaluationTest, TargetProbabilitiesUseTheHarmonicMean) {
  ObdLog bts;
  // Item 0 at position 1 shown twice with probabilities 0.5 and 0.25: n / sum(1/p) = 2/6.
  // Item 1 at position 1 once with 0.5: 0.5. Sum 5/6, normalized: 0.4 and 0.6.
  bts.rows = {{0, 1, 0, 0.5, 2}, {0, 1, 1, 0.25, 3}, {1, 1, 0, 0.5, 4}};
  const ObdTarget t = TargetFromLog(bts);
  EXPECT_NEAR(t.position_mass.at(1), 5.0 / 6, 1e-12);
  EXPECT_NEAR((t.probability.at({0, 1})), 0.4, 1e-12);
  EXPECT_NEAR((t.probability.at({1, 1})), 0.6, 1e-12);
}

// The smoke test on the real (small) Open Bandit Dataset.
TEST(ObdEvaluationTest, OpenBanditSmall) {
  const std::string root = "/work/shared/data/open-bandit-small";
  if (!std::filesystem::exists(root + "/random") || !std::filesystem::exists(root + "/bts")) {
    GTEST_SKIP() << root << " is not present";
  }
  const std::vector<std::string> campaigns = ObdCampaigns(root + "/random");
  ASSERT_FALSE(campaigns.empty());
  for (const std::string& campaign : campaigns) {
    ObdLog logged, target;
    ASSERT_EQ(ReadObdCampaign(root + "/random", campaign, logged), "");
    ASSERT_EQ(ReadObdCampaign(root + "/bts", campaign, target), "");
    const CampaignEvaluation ev = EvaluateCampaign(campaign, logged, target);
    ASSERT_EQ(ev.estimates.size(), 4u) << campaign;
    std::vector<Estimate> all = ev.estimates;
    all.push_back(ev.target_on_policy);
    all.push_back(ev.logger_on_policy);
    for (const Estimate& e : all) {
      ASSERT_TRUE(e.ok()) << campaign << ": " << e.error;
      EXPECT_TRUE(std::isfinite(e.value) && std::isfinite(e.ci_low) && std::isfinite(e.ci_high));
      EXPECT_GE(e.value, 0) << campaign << " " << e.estimator;
      EXPECT_LE(e.value, 1) << campaign << " " << e.estimator;
      EXPECT_LE(e.ci_low, e.value);
      EXPECT_LE(e.value, e.ci_high);
      EXPECT_GT(e.std_error, 0);
    }
    // The target's probabilities per position sum to about 1 before normalizing (the
    // harmonic mean; the plain mean would give about 2).
    for (const auto& [pos, mass] : ev.position_mass) {
      EXPECT_GT(mass, 0.8) << campaign << " position " << pos;
      EXPECT_LT(mass, 1.3) << campaign << " position " << pos;
    }
    // Uniform logger: the weights average about 1.
    EXPECT_NEAR(ev.estimates[0].mean_weight, 1, 0.15) << campaign;
  }
}

}  // namespace
}  // namespace streamrec::client
