#include "client/off_policy.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace streamrec::client {
namespace {

std::string RoundName(const std::vector<LoggedRound>& rounds, size_t i) {
  std::string name = "round " + std::to_string(i);
  if (!rounds[i].source.empty()) name += " (" + rounds[i].source + ")";
  return name;
}

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Check: the common input checks; "" when the rounds are usable. `weights`: p_log and
// p_target are read.
std::string Check(const std::vector<LoggedRound>& rounds, bool weights) {
  if (rounds.empty()) return "no logged rounds";
  for (size_t i = 0; i < rounds.size(); ++i) {
    const LoggedRound& r = rounds[i];
    if (!std::isfinite(r.reward)) {
      return RoundName(rounds, i) + ": reward " + Num(r.reward) + " is not finite";
    }
    if (!weights) continue;
    if (!(r.p_log > 0 && r.p_log <= 1)) {
      return RoundName(rounds, i) + ": logging propensity " + Num(r.p_log) +
             " is not in (0, 1] (a logged action must have had a positive probability)";
    }
    if (!(r.p_target >= 0 && r.p_target <= 1)) {
      return RoundName(rounds, i) + ": target probability " + Num(r.p_target) +
             " is not in [0, 1]";
    }
  }
  return "";
}

Estimate Failed(const std::string& name, const std::string& error) {
  Estimate e;
  e.estimator = name;
  e.error = name + ": " + error;
  return e;
}

void SetInterval(Estimate& e) {
  e.ci_low = e.value - kZ95 * e.std_error;
  e.ci_high = e.value + kZ95 * e.std_error;
}

// MeanEstimate: the mean of `terms` with SE sd / sqrt(n) (sample sd, n - 1; 0 for n = 1).
Estimate MeanEstimate(const std::string& name, const std::vector<double>& terms) {
  Estimate e;
  e.estimator = name;
  e.rounds = terms.size();
  const double n = static_cast<double>(terms.size());
  double sum = 0;
  for (double t : terms) sum += t;
  e.value = sum / n;
  double ss = 0;
  for (double t : terms) ss += (t - e.value) * (t - e.value);
  e.std_error = terms.size() > 1 ? std::sqrt(ss / (n - 1) / n) : 0;
  SetInterval(e);
  return e;
}

void SetWeightStats(Estimate& e, const std::vector<double>& w) {
  double sum = 0, sum2 = 0, max = 0;
  for (double x : w) {
    sum += x;
    sum2 += x * x;
    max = std::max(max, x);
  }
  e.mean_weight = sum / static_cast<double>(w.size());
  e.max_weight = max;
  e.effective_rounds = sum2 > 0 ? sum * sum / sum2 : 0;
}

// RatioEstimate: sum(w r) / sum(w), delta-method SE.
Estimate RatioEstimate(const std::string& name, const std::vector<LoggedRound>& rounds,
                       const std::vector<double>& w) {
  double sw = 0, swr = 0;
  for (size_t i = 0; i < rounds.size(); ++i) {
    sw += w[i];
    swr += w[i] * rounds[i].reward;
  }
  if (!(sw > 0)) return Failed(name, "the target gives probability 0 to every logged action");
  Estimate e;
  e.estimator = name;
  e.rounds = rounds.size();
  e.value = swr / sw;
  const double n = static_cast<double>(rounds.size());
  double s = 0;
  for (size_t i = 0; i < rounds.size(); ++i) {
    const double d = w[i] * (rounds[i].reward - e.value);
    s += d * d;
  }
  const double mean_w = sw / n;
  e.std_error = std::sqrt(s / n) / mean_w / std::sqrt(n);
  SetInterval(e);
  SetWeightStats(e, w);
  return e;
}

std::vector<double> Weights(const std::vector<LoggedRound>& rounds) {
  std::vector<double> w;
  w.reserve(rounds.size());
  for (const LoggedRound& r : rounds) w.push_back(r.p_target / r.p_log);
  return w;
}

}  // namespace

Estimate EstimateIps(const std::vector<LoggedRound>& rounds) {
  if (std::string err = Check(rounds, true); !err.empty()) return Failed("ips", err);
  const std::vector<double> w = Weights(rounds);
  std::vector<double> terms(rounds.size());
  for (size_t i = 0; i < rounds.size(); ++i) terms[i] = w[i] * rounds[i].reward;
  Estimate e = MeanEstimate("ips", terms);
  SetWeightStats(e, w);
  return e;
}

Estimate EstimateSnips(const std::vector<LoggedRound>& rounds) {
  if (std::string err = Check(rounds, true); !err.empty()) return Failed("snips", err);
  return RatioEstimate("snips", rounds, Weights(rounds));
}

Estimate EstimateDr(const std::vector<LoggedRound>& rounds) {
  if (std::string err = Check(rounds, true); !err.empty()) return Failed("dr", err);
  const std::vector<double> w = Weights(rounds);
  std::vector<double> terms(rounds.size());
  for (size_t i = 0; i < rounds.size(); ++i) {
    const LoggedRound& r = rounds[i];
    if (!std::isfinite(r.q_logged) || !std::isfinite(r.q_target)) {
      return Failed("dr", RoundName(rounds, i) +
                              ": no reward-model prediction (q_logged, q_target; "
                              "see FillDirectTerms)");
    }
    terms[i] = r.q_target + w[i] * (r.reward - r.q_logged);
  }
  Estimate e = MeanEstimate("dr", terms);
  SetWeightStats(e, w);
  return e;
}

Estimate EstimateNaive(const std::vector<LoggedRound>& rounds) {
  if (std::string err = Check(rounds, true); !err.empty()) return Failed("naive", err);
  std::vector<double> w;
  w.reserve(rounds.size());
  for (const LoggedRound& r : rounds) w.push_back(r.p_target);
  return RatioEstimate("naive", rounds, w);
}

Estimate EstimateOnPolicy(const std::vector<LoggedRound>& rounds) {
  if (std::string err = Check(rounds, false); !err.empty()) return Failed("on_policy", err);
  std::vector<double> terms;
  terms.reserve(rounds.size());
  for (const LoggedRound& r : rounds) terms.push_back(r.reward);
  return MeanEstimate("on_policy", terms);
}

RewardModel RewardModel::Fit(const std::vector<LoggedRound>& rounds, const Options& options) {
  RewardModel model;
  model.options_ = options;
  const double m = std::max(0.0, options.prior_rounds);
  double total = 0;
  std::map<std::pair<int32_t, int32_t>, std::pair<double, double>> action_sums;
  std::map<std::tuple<int64_t, int32_t, int32_t>, std::pair<double, double>> context_sums;
  for (const LoggedRound& r : rounds) {
    if (!std::isfinite(r.reward)) continue;
    total += r.reward;
    auto& a = action_sums[{r.action, r.position}];
    a.first += r.reward;
    a.second += 1;
    if (options.by_context) {
      auto& c = context_sums[{r.context, r.action, r.position}];
      c.first += r.reward;
      c.second += 1;
    }
  }
  model.global_ = rounds.empty() ? 0 : total / static_cast<double>(rounds.size());
  for (const auto& [key, s] : action_sums) {
    model.by_action_[key] = (s.first + m * model.global_) / (s.second + m);
  }
  for (const auto& [key, s] : context_sums) {
    const double parent = model.by_action_[{std::get<1>(key), std::get<2>(key)}];
    model.by_context_[key] = (s.first + m * parent) / (s.second + m);
  }
  return model;
}

double RewardModel::Predict(int64_t context, int32_t action, int32_t position) const {
  if (options_.by_context) {
    if (auto it = by_context_.find({context, action, position}); it != by_context_.end()) {
      return it->second;
    }
  }
  if (auto it = by_action_.find({action, position}); it != by_action_.end()) return it->second;
  return global_;
}

void FillDirectTerms(const RewardModel& model, const TargetDistribution& target,
                     std::vector<LoggedRound>& rounds) {
  for (LoggedRound& r : rounds) {
    r.q_logged = model.Predict(r.context, r.action, r.position);
    double v = 0;
    for (const auto& [action, p] : target(r)) v += p * model.Predict(r.context, action, r.position);
    r.q_target = v;
  }
}

std::vector<Estimate> EstimateAll(const std::vector<LoggedRound>& rounds) {
  std::vector<Estimate> out = {EstimateIps(rounds), EstimateSnips(rounds)};
  const bool dr = !rounds.empty() && std::all_of(rounds.begin(), rounds.end(), [](const auto& r) {
    return std::isfinite(r.q_logged) && std::isfinite(r.q_target);
  });
  if (dr) out.push_back(EstimateDr(rounds));
  out.push_back(EstimateNaive(rounds));
  return out;
}

}  // namespace streamrec::client
