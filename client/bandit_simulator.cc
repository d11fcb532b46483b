#include "client/bandit_simulator.h"

#include <algorithm>
#include <cmath>

namespace streamrec::client {
namespace {

// Rng: splitmix64, the same sequence everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  // Below: uniform in [0, n) (n small: the modulo bias is below 2^-50).
  int Below(int n) { return static_cast<int>(Next() % static_cast<uint64_t>(n)); }

 private:
  uint64_t state_;
};

}  // namespace

BanditSimulator::BanditSimulator(const Options& options) : options_(options) {
  options_.contexts = std::max(2, options_.contexts);
  options_.actions = std::max(2, options_.actions);
  const int C = options_.contexts, K = options_.actions;
  Rng rng(options_.seed * 0x2545f4914f6cdd1dULL + 17);
  click_.assign(C, std::vector<double>(K, 0));
  candidates_.assign(C, {});
  target_.assign(C, 0);
  const bool biased = options_.scenario == Scenario::kBiased;
  for (int x = 0; x < C; ++x) {
    const bool popular = biased && x % 2 == 0;
    if (popular) {
      candidates_[x] = {x % K, (x + 1) % K};
    } else {
      for (int a = 0; a < K; ++a) candidates_[x].push_back(a);
    }
    for (int a : candidates_[x]) {
      const double u = rng.Uniform();
      click_[x][a] = !biased ? 0.05 + 0.45 * u : popular ? 0.30 + 0.40 * u : 0.02 + 0.10 * u;
    }
    // The target: the best candidate after a perturbation of up to +-0.15 (biased: the
    // width of the context's range), so it is good but not always right.
    const double noise = !biased ? 0.15 : popular ? 0.15 : 0.04;
    double best = -1;
    for (int a : candidates_[x]) {
      const double score = click_[x][a] + noise * (2 * rng.Uniform() - 1);
      if (score > best) {
        best = score;
        target_[x] = a;
      }
    }
  }
}

double BanditSimulator::ClickProbability(int context, int action) const {
  return click_[context][action];
}

double BanditSimulator::TrueValue() const {
  double v = 0;
  for (int x = 0; x < options_.contexts; ++x) v += click_[x][target_[x]];
  return v / options_.contexts;
}

double BanditSimulator::RunTarget(uint64_t rounds, uint64_t seed) const {
  Rng rng(seed);
  uint64_t clicks = 0;
  for (uint64_t i = 0; i < rounds; ++i) {
    const int x = rng.Below(options_.contexts);
    clicks += rng.Uniform() < click_[x][target_[x]];
  }
  return rounds ? static_cast<double>(clicks) / static_cast<double>(rounds) : 0;
}

std::vector<LoggedRound> BanditSimulator::LogUniform(uint64_t rounds, uint64_t seed) const {
  Rng rng(seed);
  std::vector<LoggedRound> out;
  out.reserve(rounds);
  for (uint64_t i = 0; i < rounds; ++i) {
    LoggedRound r;
    const int x = rng.Below(options_.contexts);
    const std::vector<int>& cand = candidates_[x];
    r.context = x;
    r.action = cand[rng.Below(static_cast<int>(cand.size()))];
    r.p_log = 1.0 / static_cast<double>(cand.size());
    r.p_target = r.action == target_[x] ? 1 : 0;
    r.reward = rng.Uniform() < click_[x][r.action] ? 1 : 0;
    out.push_back(r);
  }
  return out;
}

TargetDistribution BanditSimulator::Target() const {
  return [this](const LoggedRound& r) {
    return std::vector<std::pair<int32_t, double>>{{target_[r.context], 1.0}};
  };
}

SyntheticCheck RunSyntheticCheck(BanditSimulator::Scenario scenario, uint64_t rounds,
                                 uint64_t seed) {
  BanditSimulator sim({.scenario = scenario, .seed = seed});
  SyntheticCheck check;
  check.scenario = scenario;
  check.rounds = rounds;
  check.seed = seed;
  check.truth = sim.TrueValue();
  check.simulated_rounds = std::max<uint64_t>(rounds, 1000000);
  check.truth_simulated = sim.RunTarget(check.simulated_rounds, seed ^ 0x5eed);
  double logger = 0;
  for (int x = 0; x < sim.contexts(); ++x) {
    double s = 0;
    for (int a : sim.Candidates(x)) s += sim.ClickProbability(x, a);
    logger += s / static_cast<double>(sim.Candidates(x).size()) / sim.contexts();
  }
  check.logger_value = logger;
  std::vector<LoggedRound> log = sim.LogUniform(rounds, seed);
  const RewardModel model = RewardModel::Fit(log, {.by_context = true, .prior_rounds = 10});
  FillDirectTerms(model, sim.Target(), log);
  check.estimates = EstimateAll(log);
  return check;
}

}  // namespace streamrec::client
