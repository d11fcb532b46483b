// BanditSimulator: a seeded contextual bandit where the truth is known, to check the
// off-policy estimators (client/off_policy.h; `streamrec evaluate --synthetic`,
// tests/off_policy_test.cc). Deterministic for a seed (its own splitmix64 generator, the
// same figures on every platform). Immutable after construction; any thread.
//
// `contexts` contexts, drawn uniformly, and `actions` actions; each context has a set of
// candidate actions and a click probability per (context, action). The logger picks
// uniformly at random among the context's candidates (p_log = 1 / candidates); the
// target is a fixed deterministic policy: in each context the candidate with the best
// click probability after a seeded perturbation (a good policy, not the optimum).
//
//   Scenario::kUniform  every context has all actions as candidates, click
//                       probabilities 0.05..0.50. The naive estimator is unbiased here
//                       (p_log is the same everywhere; it equals SNIPS).
//   Scenario::kBiased   built to bias the naive estimator: the even contexts are
//                       "popular" (click probabilities 0.30..0.70) with 2 candidates, the
//                       odd ones are not (0.02..0.12) with every action a candidate. The
//                       logger agrees with the target 1 time in 2 in popular contexts and
//                       1 in `actions` in the others, so the unweighted mean reward of
//                       the agreeing rounds over-weights the popular contexts.
//
// TrueValue is the target's exact click rate (the expectation over contexts);
// RunTarget the click rate of actually running it on the simulator.
#ifndef STREAMREC_CLIENT_BANDIT_SIMULATOR_H_
#define STREAMREC_CLIENT_BANDIT_SIMULATOR_H_

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "client/off_policy.h"

namespace streamrec::client {

class BanditSimulator {
 public:
  enum class Scenario { kUniform, kBiased };
  struct Options {
    Scenario scenario = Scenario::kUniform;
    int contexts = 20;  // >= 2
    int actions = 10;   // >= 2
    uint64_t seed = 1;  // the click probabilities and the target
  };
  explicit BanditSimulator(const Options& options);

  // ClickProbability: P(click | context, action); 0 for an action that is no candidate.
  double ClickProbability(int context, int action) const;
  int contexts() const { return options_.contexts; }
  const std::vector<int>& Candidates(int context) const { return candidates_[context]; }
  // TargetAction: the target's action in `context`.
  int TargetAction(int context) const { return target_[context]; }
  // TrueValue: the target's exact click rate.
  double TrueValue() const;
  // RunTarget: the target's click rate over `rounds` simulated rounds (seeded).
  double RunTarget(uint64_t rounds, uint64_t seed) const;
  // LogUniform: `rounds` rounds of the uniform-random logger (seeded), with p_log,
  // p_target and the context key; DR terms unset.
  std::vector<LoggedRound> LogUniform(uint64_t rounds, uint64_t seed) const;
  // TargetDistribution: the target's (action, 1) in the round's context.
  TargetDistribution Target() const;

  static const char* ScenarioName(Scenario s) {
    return s == Scenario::kUniform ? "uniform" : "biased";
  }

 private:
  Options options_;
  std::vector<std::vector<double>> click_;     // [context][action]
  std::vector<std::vector<int>> candidates_;   // [context]
  std::vector<int> target_;                    // [context]
};

// SyntheticCheck: the estimators against the truth on one scenario.
struct SyntheticCheck {
  BanditSimulator::Scenario scenario = BanditSimulator::Scenario::kUniform;
  uint64_t rounds = 0, seed = 0;
  double truth = 0;            // exact
  double truth_simulated = 0;  // RunTarget over `simulated_rounds`
  uint64_t simulated_rounds = 0;
  double logger_value = 0;     // the uniform logger's own click rate (exact)
  std::vector<Estimate> estimates;  // IPS, SNIPS, DR, naive
  // Passes: within `tolerance` (relative) of the truth and the CI covers it.
  static bool Passes(const Estimate& e, double truth, double tolerance = 0.05) {
    return e.ok() && std::abs(e.value - truth) <= tolerance * truth && e.Covers(truth);
  }
};

// RunSyntheticCheck logs `rounds` rounds under the uniform logger and estimates the
// target's click rate with each estimator (DR's reward model: per (context, action),
// RewardModel with by_context). The truth is also simulated over max(rounds, 1e6) rounds.
SyntheticCheck RunSyntheticCheck(BanditSimulator::Scenario scenario, uint64_t rounds,
                                 uint64_t seed);

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_BANDIT_SIMULATOR_H_
