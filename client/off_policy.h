// Off-policy evaluation: estimates, from rounds logged under one policy (the logger), the
// mean reward (click rate) another policy (the target) would have had. Pure functions over
// a vector of logged rounds; no I/O. Thread-compatible values.
//
// Contract. Each LoggedRound holds what the logger did and saw, and what the target would
// have done there: `p_log` is the logger's probability of the logged action (and
// position) in that round, in (0, 1]; `p_target` the target's probability of the same
// action, in [0, 1]; `reward` the observed reward (a click: 0 or 1; any finite number is
// accepted). DR also needs the reward model's `q_logged` = q(x, a_logged) and
// `q_target` = sum_a pi_target(a | x) q(x, a) (FillDirectTerms computes both from a
// RewardModel and the target's full distribution). With w = p_target / p_log:
//
//   IPS    V = mean(w r)                                 SE = sd(w r) / sqrt(n)
//   SNIPS  V = sum(w r) / sum(w)                         SE: delta method (below)
//   DR     V = mean(q_target + w (r - q_logged))         SE = sd(term) / sqrt(n)
//   naive  V = sum(p_target r) / sum(p_target)           SE: delta method
//   on-policy (the logger's own value) V = mean(r)       SE = sd(r) / sqrt(n)
//
// SNIPS's (and naive's) delta-method variance is mean(w^2 (r - V)^2) / mean(w)^2 / n.
// The naive estimator ignores the logger's propensities: for a deterministic target it is
// the mean reward of the rounds where the target agrees with the logged action, which is
// biased whenever p_log varies with the context. Every interval is the 95% normal
// approximation V +- 1.96 SE. IPS, SNIPS and DR are consistent when p_log > 0 wherever
// p_target > 0; DR additionally has lower variance the better the reward model, and stays
// unbiased when the model is wrong.
//
// Errors (an Estimate with `error` set, never an exception or abort): empty input, a
// p_log outside (0, 1] or a p_target outside [0, 1] (naming the round's index and, when
// set, its `source` such as "random/men/men.csv:17"), non-finite values, a DR round
// without its reward-model terms, and all-zero target weights for SNIPS and naive.
//
//   std::vector<LoggedRound> rounds = ...;       // e.g. from the server's impression log
//   RewardModel model = RewardModel::Fit(rounds, {});
//   FillDirectTerms(model, target_distribution, rounds);
//   Estimate ips = EstimateIps(rounds), dr = EstimateDr(rounds);
//
// The seam for the server's logged impressions: build LoggedRounds from them (the
// logger's probability is the one the server recorded with each impression) and call the
// same functions.
#ifndef STREAMREC_CLIENT_OFF_POLICY_H_
#define STREAMREC_CLIENT_OFF_POLICY_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace streamrec::client {

// LoggedRound: one logged impression and the target's view of it.
struct LoggedRound {
  int64_t context = 0;   // context key (bucket); the reward model may key on it
  int32_t action = 0;    // the logged action (item)
  int32_t position = 0;  // the slot it was shown in (0 when there are none)
  double reward = 0;
  double p_log = 1;      // logger's probability of (action, position) here
  double p_target = 0;   // target's probability of (action, position) here
  // DR only: q(x, a_logged) and sum_a pi_target(a | x) q(x, a). NaN: not filled.
  double q_logged = std::numeric_limits<double>::quiet_NaN();
  double q_target = std::numeric_limits<double>::quiet_NaN();
  std::string source;    // where the round came from, for messages ("" when none)
};

// Estimate: an estimator's value, standard error and 95% interval over `rounds` rounds.
// `error` is non-empty when the estimate could not be made (and the numbers are NaN).
struct Estimate {
  std::string estimator;  // "ips", "snips", "dr", "naive", "on_policy"
  double value = std::numeric_limits<double>::quiet_NaN();
  double std_error = std::numeric_limits<double>::quiet_NaN();
  double ci_low = std::numeric_limits<double>::quiet_NaN();
  double ci_high = std::numeric_limits<double>::quiet_NaN();
  uint64_t rounds = 0;
  // Diagnostics of the weights w = p_target / p_log (IPS, SNIPS, DR): their mean (near 1
  // when the target is covered by the logger), largest value and the effective sample
  // size (sum w)^2 / sum w^2. For naive the weights are p_target; 0 for on_policy.
  double mean_weight = 0, max_weight = 0, effective_rounds = 0;
  std::string error;

  bool ok() const { return error.empty(); }
  // Covers: ci_low <= truth <= ci_high.
  bool Covers(double truth) const { return ok() && ci_low <= truth && truth <= ci_high; }
};

// kZ95: the two-sided 95% normal quantile.
inline constexpr double kZ95 = 1.959963984540054;

// EstimateIps: inverse propensity scoring.
Estimate EstimateIps(const std::vector<LoggedRound>& rounds);
// EstimateSnips: self-normalized IPS (delta-method interval).
Estimate EstimateSnips(const std::vector<LoggedRound>& rounds);
// EstimateDr: doubly robust; every round needs q_logged and q_target (FillDirectTerms).
Estimate EstimateDr(const std::vector<LoggedRound>& rounds);
// EstimateNaive: the target-probability-weighted mean reward, ignoring p_log.
Estimate EstimateNaive(const std::vector<LoggedRound>& rounds);
// EstimateOnPolicy: the mean reward of the rounds (the logger's own value); p_log and
// p_target are not read.
Estimate EstimateOnPolicy(const std::vector<LoggedRound>& rounds);

// RewardModel: the direct-method reward model q(x, a) for DR, a table of mean rewards
// fitted on logged rounds, shrunk toward coarser means with `prior_rounds` pseudo-rounds:
//
//   global      g         = mean reward of all rounds
//   per action  q(a, pos) = (sum r + m g) / (n + m)                over rounds with (a, pos)
//   by context  q(x,a,pos)= (sum r + m q(a,pos)) / (n + m)         over rounds with (x,a,pos)
//
// (m = prior_rounds). With by_context false the model ignores the context key. A cell
// never logged predicts its parent's mean. The fit is unweighted (the logger's choices
// decide which cells are well estimated, not the model's consistency: DR corrects the
// model's errors with the IPS residual term). Fitted on the same rounds it is used on (no
// cross-fitting): its small overfitting bias vanishes with the rounds per cell.
// Immutable after Fit; any thread.
class RewardModel {
 public:
  struct Options {
    bool by_context = false;
    double prior_rounds = 10;  // m >= 0
  };
  static RewardModel Fit(const std::vector<LoggedRound>& rounds, const Options& options);
  // Predict: q(context, action, position).
  double Predict(int64_t context, int32_t action, int32_t position) const;

 private:
  Options options_;
  double global_ = 0;
  std::map<std::pair<int32_t, int32_t>, double> by_action_;                 // (a, pos)
  std::map<std::tuple<int64_t, int32_t, int32_t>, double> by_context_;      // (x, a, pos)
};

// TargetDistribution: the target's probabilities in the round's context, as
// (action, probability) pairs (actions it never plays may be left out); for the round's
// position when there are positions.
using TargetDistribution =
    std::function<std::vector<std::pair<int32_t, double>>(const LoggedRound& round)>;

// FillDirectTerms sets each round's q_logged and q_target from `model` and `target`.
void FillDirectTerms(const RewardModel& model, const TargetDistribution& target,
                     std::vector<LoggedRound>& rounds);

// EstimateAll: IPS, SNIPS, DR (when every round has its DR terms) and naive, in that order.
std::vector<Estimate> EstimateAll(const std::vector<LoggedRound>& rounds);

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_OFF_POLICY_H_
