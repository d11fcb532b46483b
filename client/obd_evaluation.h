// ObdEvaluation: the Open Bandit Dataset smoke test of `streamrec evaluate --obd`: the
// click rate of the target behavior policy (Bernoulli Thompson Sampling, `bts`),
// estimated off-policy from the logger's log (`random`), beside the target's own
// on-policy click rate, as in Saito et al. 2020. Pure functions; thread-compatible values.
//
// The target's probabilities. The target log's propensity_score is bts's probability of
// the shown item at that position when it was shown. The target is taken as context-free
// (as in the paper): pi(item | position), bts's probability averaged over the log's
// impressions. The plain mean of the column over the impressions that showed an item is
// size-biased (an item is shown more often exactly when its probability is high; on
// bts/men the means sum to 5.9 over 3 positions instead of 3), so each cell uses
// n_cell / sum(1 / propensity), which estimates the time-average of bts's probability
// (E[1{shown}/p] = 1 per impression), and each position's cells are then normalized to
// sum to 1 (`position_mass` keeps the sums before). A cell bts never showed gets 0.
//
// The rounds: each logger impression is one round with context = 0, action = item,
// position = position, p_log = its propensity_score, p_target = pi(item | position). DR's
// reward model is RewardModel per (item, position), shrunk toward the global click rate
// with `prior_rounds` pseudo-rounds.
#ifndef STREAMREC_CLIENT_OBD_EVALUATION_H_
#define STREAMREC_CLIENT_OBD_EVALUATION_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "client/obd_reader.h"
#include "client/off_policy.h"

namespace streamrec::client {

// ObdTarget: the target policy's probability per (item, position).
struct ObdTarget {
  std::map<std::pair<int32_t, int32_t>, double> probability;  // (item, position)
  std::map<int32_t, double> position_mass;  // per position: the sum before normalizing
};

// TargetFromLog: the target's probabilities from its own log (see above).
ObdTarget TargetFromLog(const ObdLog& target_log);

// ObdRounds: the logger's impressions as LoggedRounds for `target` (DR terms unset).
std::vector<LoggedRound> ObdRounds(const ObdLog& logged, const ObdTarget& target);

// CampaignEvaluation: one campaign's figures.
struct CampaignEvaluation {
  std::string campaign;
  uint64_t logged_rounds = 0, logged_clicks = 0;  // the logger's log (random)
  uint64_t target_rounds = 0, target_clicks = 0;  // the target's log (bts)
  size_t target_cells = 0;                         // (item, position) cells bts showed
  std::map<int32_t, double> position_mass;
  Estimate logger_on_policy;   // the logger's own click rate
  Estimate target_on_policy;   // the target's on-policy click rate: the reference
  std::vector<Estimate> estimates;  // IPS, SNIPS, DR, naive: the target from the logger
};

// EvaluateCampaign: the figures of one campaign. Errors are in the Estimates.
CampaignEvaluation EvaluateCampaign(const std::string& campaign, const ObdLog& logged,
                                    const ObdLog& target, double prior_rounds = 100);

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_OBD_EVALUATION_H_
