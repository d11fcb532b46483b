#include "client/obd_evaluation.h"

namespace streamrec::client {
namespace {

// RoundOf: a logged row as a round, with the target's probability of its action.
LoggedRound RoundOf(const ObdRow& row, double p_target) {
  LoggedRound r;
  r.action = row.item_id;
  r.position = row.position;
  r.reward = row.click;
  r.p_log = row.propensity;
  r.p_target = p_target;
  return r;
}

std::vector<LoggedRound> OnPolicyRounds(const ObdLog& log) {
  std::vector<LoggedRound> rounds;
  rounds.reserve(log.rows.size());
  for (const ObdRow& row : log.rows) rounds.push_back(RoundOf(row, row.propensity));
  return rounds;
}

}  // namespace

ObdTarget TargetFromLog(const ObdLog& target_log) {
  std::map<std::pair<int32_t, int32_t>, std::pair<double, double>> cells;  // n, sum 1/p
  for (const ObdRow& row : target_log.rows) {
    auto& c = cells[{row.item_id, row.position}];
    c.first += 1;
    c.second += 1 / row.propensity;
  }
  ObdTarget target;
  for (const auto& [key, c] : cells) {
    const double p = c.first / c.second;
    target.probability[key] = p;
    target.position_mass[key.second] += p;
  }
  for (auto& [key, p] : target.probability) p /= target.position_mass[key.second];
  return target;
}

std::vector<LoggedRound> ObdRounds(const ObdLog& logged, const ObdTarget& target) {
  std::vector<LoggedRound> rounds;
  rounds.reserve(logged.rows.size());
  for (const ObdRow& row : logged.rows) {
    auto it = target.probability.find({row.item_id, row.position});
    LoggedRound r = RoundOf(row, it == target.probability.end() ? 0 : it->second);
    r.source = logged.path + ":" + std::to_string(row.line);
    rounds.push_back(std::move(r));
  }
  return rounds;
}

CampaignEvaluation EvaluateCampaign(const std::string& campaign, const ObdLog& logged,
                                    const ObdLog& target, double prior_rounds) {
  CampaignEvaluation out;
  out.campaign = campaign;
  out.logged_rounds = logged.rows.size();
  out.logged_clicks = logged.clicks;
  out.target_rounds = target.rows.size();
  out.target_clicks = target.clicks;
  const ObdTarget pi = TargetFromLog(target);
  out.target_cells = pi.probability.size();
  out.position_mass = pi.position_mass;
  out.logger_on_policy = EstimateOnPolicy(OnPolicyRounds(logged));
  out.target_on_policy = EstimateOnPolicy(OnPolicyRounds(target));

  std::vector<LoggedRound> rounds = ObdRounds(logged, pi);
  std::map<int32_t, std::vector<std::pair<int32_t, double>>> by_position;
  for (const auto& [key, p] : pi.probability) by_position[key.second].emplace_back(key.first, p);
  const RewardModel model = RewardModel::Fit(rounds, {.by_context = false,
                                                      .prior_rounds = prior_rounds});
  FillDirectTerms(model,
                  [&by_position](const LoggedRound& r) {
                    auto it = by_position.find(r.position);
                    return it == by_position.end() ? std::vector<std::pair<int32_t, double>>{}
                                                   : it->second;
                  },
                  rounds);
  out.estimates = EstimateAll(rounds);
  return out;
}

}  // namespace streamrec::client
