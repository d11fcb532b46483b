#include "model/exploration.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "absl/strings/str_cat.h"

namespace streamrec::model {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// The smallest propensity reported (the smallest normal double): never 0.
constexpr double kMinPropensity = std::numeric_limits<double>::min();
// Softmax log-weights are clamped below at -kLogFloor, so no difference of two of them
// is ever inf - inf.
constexpr double kLogFloor = 1e300;

// SplitMix64 (Steele, Lea and Flood 2014; the constants of Vigna's splitmix64.c).
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // A double in [0, 1), 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1p-53; }
  // A double in (0, 1): never 0 or 1, so both logs of a Gumbel variate are finite.
  double OpenUniform() { return (static_cast<double>(Next() >> 11) + 0.5) * 0x1p-53; }
  // An integer in [0, m), m >= 1 (multiply-shift; bias below m / 2^64).
  uint64_t Below(uint64_t m) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * m) >> 64);
  }

 private:
  uint64_t state_;
};

struct Scratch {
  std::vector<uint32_t> index;
  std::vector<double> value;  // softmax: log-weights
  std::vector<double> key;    // softmax: log-weights + Gumbel noise
  std::vector<uint8_t> taken;
};

Scratch& ThreadScratch() {
  thread_local Scratch s;
  return s;
}

// Greedy's key: a NaN score ranks with -inf (below every number), ties by index. For
// non-NaN scores the comparator below is exactly (s[a] > s[b] || (s[a] == s[b] && a < b)).
inline double GreedyKey(double v) { return std::isnan(v) ? -kInf : v; }

// SortedPrefix: index[0..k) = the k best candidates by `keys` (descending, ties by lower
// index), a strict total order, so the prefix does not depend on the sort's internals.
template <typename KeyFn>
void SortedPrefix(size_t n, size_t k, KeyFn key, std::vector<uint32_t>& index) {
  index.resize(n);
  std::iota(index.begin(), index.end(), 0u);
  std::partial_sort(index.begin(), index.begin() + k, index.end(), [&](uint32_t a, uint32_t b) {
    const double x = key(a), y = key(b);
    return x > y || (x == y && a < b);
  });
}

// SoftmaxLogWeights: value[i] = (s_i - s_max) / T, in [-kLogFloor, 0]; NaN counts as
// -inf; when s_max is +inf the +inf scores get 0 and the rest -kLogFloor; when every
// score is -inf or NaN, all get 0 (uniform).
void SoftmaxLogWeights(std::span<const double> scores, double temperature,
                       std::vector<double>& value) {
  const size_t n = scores.size();
  value.resize(n);
  double max = -kInf;
  for (double s : scores) max = std::max(max, GreedyKey(s));
  for (size_t i = 0; i < n; ++i) {
    const double s = GreedyKey(scores[i]);
    value[i] = s == max ? 0.0 : std::max((s - max) / temperature, -kLogFloor);
  }
}

// Share: w / sum for a weight w = exp(v) of a sum >= kRebaseSum, by logs when w is so
// small that it lost precision (or underflowed to 0).
constexpr double kRebaseSum = 1e-200;
inline double Share(double w, double v, double sum) {
  return w >= 1e-290 ? w / sum : std::exp(v - std::log(sum));
}

inline double ClampPropensity(double p) {
  return std::isnan(p) ? kMinPropensity : std::clamp(p, kMinPropensity, 1.0);
}

void RankEpsilonGreedy(double epsilon, std::span<const double> scores, size_t k, uint64_t seed,
                       std::vector<uint32_t>& order, std::vector<double>& propensity) {
  const size_t n = scores.size();
  Scratch& s = ThreadScratch();
  // The best remaining item is always among the greedy top k: fewer than k items have
  // been taken before any slot r < k.
  SortedPrefix(n, k, [&](uint32_t i) { return GreedyKey(scores[i]); }, s.index);
  s.taken.assign(n, 0);
  SplitMix64 rng(seed);
  size_t next_best = 0;
  for (size_t r = 0; r < k; ++r) {
    while (s.taken[s.index[next_best]]) ++next_best;
    const uint32_t best = s.index[next_best];
    const size_t remaining = n - r;
    uint32_t chosen = best;
    double p = 1.0;
    if (remaining > 1) {
      if (rng.Uniform() < epsilon) {
        // The j-th other remaining item in candidate index order.
        uint64_t j = rng.Below(remaining - 1);
        for (uint32_t i = 0; i < n; ++i) {
          if (s.taken[i] || i == best) continue;
          if (j-- == 0) {
            chosen = i;
            break;
          }
        }
        p = epsilon / static_cast<double>(remaining - 1);
      } else {
        p = 1.0 - epsilon;
      }
    }
    s.taken[chosen] = 1;
    order[r] = chosen;
    propensity[r] = ClampPropensity(p);
  }
}

void RankSoftmax(double temperature, std::span<const double> scores, size_t k, uint64_t seed,
                 std::vector<uint32_t>& order, std::vector<double>& propensity) {
  const size_t n = scores.size();
  Scratch& s = ThreadScratch();
  SoftmaxLogWeights(scores, temperature, s.value);
  // Gumbel-top-k: the k largest of value + Gumbel noise are a Plackett-Luce draw.
  s.key.resize(n);
  SplitMix64 rng(seed);
  for (size_t i = 0; i < n; ++i) s.key[i] = s.value[i] - std::log(-std::log(rng.OpenUniform()));
  SortedPrefix(n, k, [&](uint32_t i) { return s.key[i]; }, s.index);
  // Propensities: slot r's item's weight over the remaining items' sum, summed in
  // candidate index order, so each is a function of the remaining set and the item alone
  // (the same bits whatever order the items above came in; slot 0's are
  // FirstSlotProbabilities'). The weights are exp(value), relative to the largest score;
  // a shown item's weight is set to 0, which leaves the sum's bits as if it were skipped.
  // When the remaining sum falls below kRebaseSum (tiny temperatures) the weights are
  // recomputed relative to the largest remaining log-weight, so it never underflows.
  s.key.resize(n);  // now: the weights, 0 once shown
  for (size_t i = 0; i < n; ++i) s.key[i] = std::exp(s.value[i]);
  s.taken.assign(n, 0);
  for (size_t r = 0; r < k; ++r) {
    const uint32_t item = s.index[r];
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += s.key[i];
    double p = 0;
    if (sum >= kRebaseSum) {
      p = Share(s.key[item], s.value[item], sum);
    } else {
      double max = -kInf;
      for (size_t i = 0; i < n; ++i) {
        if (!s.taken[i]) max = std::max(max, s.value[i]);
      }
      sum = 0;  // at least 1: the largest remaining term is exp(0)
      for (size_t i = 0; i < n; ++i) {
        if (!s.taken[i]) sum += std::exp(s.value[i] - max);
      }
      p = Share(std::exp(s.value[item] - max), s.value[item] - max, sum);
    }
    s.key[item] = 0;
    s.taken[item] = 1;
    order[r] = item;
    propensity[r] = ClampPropensity(p);
  }
}

}  // namespace

const char* ExplorationKindName(ExplorationKind kind) {
  switch (kind) {
    case ExplorationKind::kGreedy: return "greedy";
    case ExplorationKind::kEpsilonGreedy: return "epsilon_greedy";
    case ExplorationKind::kSoftmax: return "softmax";
  }
  return "unknown";
}

absl::Status ValidateExploration(const ExplorationConfig& c) {
  if (c.kind != ExplorationKind::kGreedy && c.kind != ExplorationKind::kEpsilonGreedy &&
      c.kind != ExplorationKind::kSoftmax) {
    return absl::InvalidArgumentError(absl::StrCat("exploration.policy: unknown policy ",
                                                   static_cast<int>(c.kind)));
  }
  if (!(c.epsilon >= 0 && c.epsilon <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("exploration.epsilon: ", c.epsilon, " is outside [0, 1]"));
  }
  if (!(std::isfinite(c.temperature) && c.temperature > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "exploration.temperature: ", c.temperature, " is not a finite number > 0"));
  }
  return absl::OkStatus();
}

void Rank(const ExplorationConfig& c, std::span<const double> scores, size_t k, uint64_t seed,
          std::vector<uint32_t>& order, std::vector<double>& propensity) {
  const size_t n = scores.size();
  k = k == 0 ? n : std::min(k, n);
  order.resize(k);
  propensity.resize(k);
  if (k == 0) return;
  switch (c.kind) {
    case ExplorationKind::kEpsilonGreedy:
      RankEpsilonGreedy(c.epsilon, scores, k, seed, order, propensity);
      return;
    case ExplorationKind::kSoftmax:
      RankSoftmax(c.temperature, scores, k, seed, order, propensity);
      return;
    case ExplorationKind::kGreedy:
      break;
  }
  Scratch& s = ThreadScratch();
  SortedPrefix(n, k, [&](uint32_t i) { return GreedyKey(scores[i]); }, s.index);
  std::copy(s.index.begin(), s.index.begin() + k, order.begin());
  std::fill(propensity.begin(), propensity.end(), 1.0);
}

void FirstSlotProbabilities(const ExplorationConfig& c, std::span<const double> scores,
                            std::vector<double>& out) {
  const size_t n = scores.size();
  out.assign(n, 0.0);
  if (n == 0) return;
  if (c.kind == ExplorationKind::kSoftmax) {
    Scratch& s = ThreadScratch();
    SoftmaxLogWeights(scores, c.temperature, s.value);
    double sum = 0;  // at least 1: the largest log-weight is 0
    for (size_t i = 0; i < n; ++i) sum += std::exp(s.value[i]);
    for (size_t i = 0; i < n; ++i) out[i] = Share(std::exp(s.value[i]), s.value[i], sum);
    return;
  }
  uint32_t best = 0;
  for (uint32_t i = 1; i < n; ++i) {
    if (GreedyKey(scores[i]) > GreedyKey(scores[best])) best = i;  // ties: the lower index
  }
  if (c.kind == ExplorationKind::kEpsilonGreedy && n > 1) {
    std::fill(out.begin(), out.end(), c.epsilon / static_cast<double>(n - 1));
    out[best] = 1.0 - c.epsilon;
    return;
  }
  out[best] = 1.0;
}

}  // namespace streamrec::model
