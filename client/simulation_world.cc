#include "client/simulation_world.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

namespace streamrec::client {

uint64_t SplitMix64::Next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double SplitMix64::Normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u = 0;
  while (u <= 0) u = Uniform();
  const double v = Uniform();
  const double r = std::sqrt(-2 * std::log(u));
  spare_ = r * std::sin(2 * M_PI * v);
  has_spare_ = true;
  return r * std::cos(2 * M_PI * v);
}

double Sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

namespace {

std::vector<double> Gaussian(SplitMix64& g, int dim, double scale) {
  std::vector<double> z(dim);
  for (double& v : z) v = scale * g.Normal();
  return z;
}

}  // namespace

SimulationWorld::SimulationWorld(const Options& options)
    : options_(options),
      world_(options.seed * 3 + 0x5157),
      rounds_(options.seed * 3 + 0x5158),
      clicks_(options.seed * 3 + 0x5159) {
  const double unit = 1 / std::sqrt(static_cast<double>(options_.dim));
  for (int s = 0; s < options_.segments; ++s) segment_z_.push_back(Gaussian(world_, options_.dim, unit));
  for (int c = 0; c < options_.categories; ++c) {
    category_z_.push_back(Gaussian(world_, options_.dim, unit));
  }
  for (int i = 0; i < options_.initial_items; ++i) AddItem(0);
}

void SimulationWorld::AddItem(int64_t round) {
  const int category = static_cast<int>(world_.Below(options_.categories));
  std::vector<double> z = Gaussian(world_, options_.dim, 1 / std::sqrt(2.0 * options_.dim));
  for (int d = 0; d < options_.dim; ++d) z[d] += category_z_[category][d] / std::sqrt(2.0);
  const double appeal = options_.appeal_sd * world_.Normal();
  items_.push_back({"i" + std::to_string(items_.size()), "c" + std::to_string(category), round});
  appeal_.push_back(appeal);
  item_z_.push_back(std::move(z));
}

double SimulationWorld::Probability(int segment, int item) const {
  double dot = 0;
  for (int d = 0; d < options_.dim; ++d) dot += segment_z_[segment][d] * item_z_[item][d];
  double boost = 0;
  if (items_[item].is_new()) {
    boost = options_.new_item_boost;
    if (options_.boost_halflife > 0) {
      boost *= std::exp2(-static_cast<double>(round_ - items_[item].arrived) /
                         options_.boost_halflife);
    }
  }
  return Sigmoid(options_.base_logit + appeal_[item] + boost + options_.affinity * dot);
}

SimulationWorld::Round SimulationWorld::NextRound() {
  ++round_;
  if (options_.new_item_every > 0 && round_ % options_.new_item_every == 0) AddItem(round_);
  Round r;
  r.number = round_;
  r.segment = static_cast<int>(rounds_.Below(options_.segments));
  r.segment_id = "s" + std::to_string(r.segment);
  const int n = static_cast<int>(items_.size());
  const int want = std::min(options_.candidates, n);
  const int fresh = std::min(options_.fresh_slots, want);
  for (int i = n - fresh; i < n; ++i) r.candidates.push_back(i);
  // The others: a partial Fisher-Yates shuffle of the older items.
  std::vector<int> older(n - fresh);
  std::iota(older.begin(), older.end(), 0);
  for (int k = 0; k < want - fresh; ++k) {
    const int j = k + static_cast<int>(rounds_.Below(older.size() - k));
    std::swap(older[k], older[j]);
    r.candidates.push_back(older[k]);
  }
  for (int k = static_cast<int>(r.candidates.size()) - 1; k > 0; --k) {
    std::swap(r.candidates[k], r.candidates[rounds_.Below(k + 1)]);
  }
  return r;
}

double SimulationWorld::OracleClicks(const Round& round, int k) const {
  std::vector<double> p;
  for (int i : round.candidates) p.push_back(Probability(round.segment, i));
  k = std::min<int>(k, p.size());
  std::partial_sort(p.begin(), p.begin() + k, p.end(), std::greater<>());
  return std::accumulate(p.begin(), p.begin() + k, 0.0);
}

double SimulationWorld::MeanProbability(const Round& round) const {
  if (round.candidates.empty()) return 0;
  double sum = 0;
  for (int i : round.candidates) sum += Probability(round.segment, i);
  return sum / round.candidates.size();
}

}  // namespace streamrec::client
