// Exploration (model/exploration.h): greedy is exactly the partial_sort ranking with
// propensity 1; first-slot probabilities sum to 1 and are Rank's propensity[0]; Monte
// Carlo over 200,000 seeds matches the propensities at the first slot, the second slot
// given the first, and whole rankings (every slot); the same seed gives the same ranking
// (pinned, so a logged impression stays reproducible); validation names the field;
// degenerate inputs (n 0 or 1, k > n, ties, extreme temperatures, NaN and inf scores)
// never give NaN or a propensity outside (0, 1].
#include "model/exploration.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <vector>

#include "model/model_config.h"

namespace streamrec::model {
namespace {

using Scores = std::vector<double>;

ExplorationConfig Greedy() { return {}; }
ExplorationConfig Epsilon(double e) {
  ExplorationConfig c;
  c.kind = ExplorationKind::kEpsilonGreedy;
  c.epsilon = e;
  return c;
}
ExplorationConfig Softmax(double t) {
  ExplorationConfig c;
  c.kind = ExplorationKind::kSoftmax;
  c.temperature = t;
  return c;
}

// The ranking of the server before exploration existed (server/ranker.cc).
std::vector<uint32_t> PartialSortOrder(const std::vector<double>& s, size_t k) {
  std::vector<uint32_t> order(s.size());
  std::iota(order.begin(), order.end(), 0u);
  k = k == 0 ? s.size() : std::min(k, s.size());
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](uint32_t a, uint32_t b) {
    return s[a] > s[b] || (s[a] == s[b] && a < b);
  });
  order.resize(k);
  return order;
}

TEST(ExplorationTest, GreedyIsExactlyPartialSortWithPropensityOne) {
  std::mt19937_64 gen(7);
  std::vector<uint32_t> order;
  std::vector<double> propensity;
  for (int trial = 0; trial < 500; ++trial) {
    const size_t n = 1 + gen() % 120;
    std::vector<double> s(n);
    // Coarse scores: many ties, which must go to the lower index.
    for (double& v : s) v = static_cast<double>(gen() % 8) / 8.0;
    for (size_t k : {size_t{0}, size_t{1}, size_t{3}, n / 2, n, n + 5}) {
      Rank(Greedy(), s, k, /*seed=*/gen(), order, propensity);
      EXPECT_EQ(order, PartialSortOrder(s, k)) << "n " << n << " k " << k;
      ASSERT_EQ(propensity.size(), order.size());
      for (double p : propensity) EXPECT_EQ(p, 1.0);
    }
  }
  // Epsilon 0 ranks exactly like greedy, whatever the seed.
  const std::vector<double> s = {0.3, 0.9, 0.3, 0.1, 0.9};
  for (uint64_t seed = 0; seed < 100; ++seed) {
    Rank(Epsilon(0), s, 0, seed, order, propensity);
    EXPECT_EQ(order, PartialSortOrder(s, 0));
    for (double p : propensity) EXPECT_EQ(p, 1.0);
  }
}

TEST(ExplorationTest, FirstSlotProbabilitiesSumToOneAndAreRanksFirstPropensity) {
  std::mt19937_64 gen(11);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<double> first;
  std::vector<uint32_t> order;
  std::vector<double> propensity;
  for (const ExplorationConfig& c :
       {Greedy(), Epsilon(0.1), Epsilon(1.0), Softmax(0.1), Softmax(0.01), Softmax(5.0)}) {
    SCOPED_TRACE(ExplorationKindName(c.kind));
    for (int trial = 0; trial < 200; ++trial) {
      const size_t n = 1 + gen() % 100;
      std::vector<double> s(n);
      for (double& v : s) v = unit(gen);
      if (n > 2) s[1] = s[0];  // a tie
      FirstSlotProbabilities(c, s, first);
      ASSERT_EQ(first.size(), n);
      double sum = 0;
      for (double p : first) {
        EXPECT_GE(p, 0.0);
        EXPECT_LE(p, 1.0);
        sum += p;
      }
      EXPECT_NEAR(sum, 1.0, 1e-12);
      Rank(c, s, 1 + gen() % n, gen(), order, propensity);
      EXPECT_EQ(propensity[0], first[order[0]]);
      EXPECT_GT(first[order[0]], 0.0);
    }
  }
}

// Frequencies of a policy's draws over `seeds` seeds, against its propensities: the first
// slot (against FirstSlotProbabilities and propensity[0]), the second given the first
// (against propensity[1], which must be the same for every draw of that pair), and, for
// full rankings of few items, each whole ranking (against the product of propensities).
struct MonteCarlo {
  size_t draws = 0;
  std::vector<size_t> first;                             // [i]
  std::map<std::pair<uint32_t, uint32_t>, size_t> pair;  // (first, second)
  std::map<std::pair<uint32_t, uint32_t>, double> pair_propensity;
  std::map<std::vector<uint32_t>, size_t> ranking;
  std::map<std::vector<uint32_t>, double> ranking_propensity;
};

MonteCarlo Draw(const ExplorationConfig& c, const std::vector<double>& s, size_t k,
                size_t seeds) {
  MonteCarlo mc;
  mc.draws = seeds;
  mc.first.assign(s.size(), 0);
  std::vector<uint32_t> order;
  std::vector<double> propensity;
  for (uint64_t seed = 0; seed < seeds; ++seed) {
    Rank(c, s, k, seed, order, propensity);
    ++mc.first[order[0]];
    if (order.size() >= 2) {
      const auto key = std::pair{order[0], order[1]};
      ++mc.pair[key];
      auto [it, added] = mc.pair_propensity.emplace(key, propensity[1]);
      EXPECT_EQ(it->second, propensity[1]) << "propensity[1] varies for one pair";  // bits
    }
    double product = 1;
    for (double p : propensity) product *= p;
    ++mc.ranking[order];
    auto [it, added] = mc.ranking_propensity.emplace(order, product);
    EXPECT_NEAR(it->second, product, 1e-15) << "the propensities vary for one ranking";
  }
  return mc;
}

// Within `z` standard errors of a binomial proportion p over n trials.
void ExpectFrequency(size_t count, size_t n, double p, const std::string& what, double z = 5) {
  ASSERT_GT(n, 0u) << what;
  const double freq = static_cast<double>(count) / static_cast<double>(n);
  const double se = std::sqrt(std::max(p * (1 - p), 1e-12) / static_cast<double>(n));
  EXPECT_NEAR(freq, p, z * se + 1e-9) << what << ": " << count << " of " << n;
}

void CheckMonteCarlo(const ExplorationConfig& c, const std::vector<double>& s, size_t k) {
  constexpr size_t kSeeds = 200000;
  const MonteCarlo mc = Draw(c, s, k, kSeeds);
  std::vector<double> first;
  FirstSlotProbabilities(c, s, first);
  for (size_t i = 0; i < s.size(); ++i) {
    ExpectFrequency(mc.first[i], kSeeds, first[i], "slot 0, item " + std::to_string(i));
  }
  // The second slot given the first, for every first item drawn often enough.
  for (const auto& [key, count] : mc.pair) {
    const size_t given = mc.first[key.first];
    if (given < 2000) continue;
    ExpectFrequency(count, given, mc.pair_propensity.at(key),
                    "slot 1 = " + std::to_string(key.second) + " given slot 0 = " +
                        std::to_string(key.first));
  }
  // The second items drawn after a common first item carry all but a sliver of the
  // probability: a pair never drawn must be one of probability below 20 / draws (else
  // missing it has odds below e^-20), so no propensity goes unchecked by much.
  for (size_t i = 0; i < s.size(); ++i) {
    if (mc.first[i] < 20000) continue;
    double sum = 0;
    for (const auto& [key, p] : mc.pair_propensity) {
      if (key.first == i) sum += p;
    }
    EXPECT_LE(sum, 1.0 + 1e-12) << "second-slot propensities given " << i;
    EXPECT_LT(1.0 - sum, 20.0 / static_cast<double>(mc.first[i]))
        << "second-slot propensities given " << i;
  }
  if (k == 0 && s.size() <= 4) {  // whole rankings: every slot's propensity
    double sum = 0;
    for (const auto& [order, count] : mc.ranking) {
      const double p = mc.ranking_propensity.at(order);
      sum += p;
      ExpectFrequency(count, kSeeds, p, "a whole ranking");
    }
    EXPECT_LE(sum, 1.0 + 1e-12);
    EXPECT_LT(1.0 - sum, 20.0 / kSeeds);
  }
}

TEST(ExplorationTest, EpsilonGreedyFrequenciesMatchPropensities) {
  const std::vector<double> s = {0.2, 0.7, 0.7, 0.1, 0.4};  // a tie at the top
  CheckMonteCarlo(Epsilon(0.3), s, 0);
  CheckMonteCarlo(Epsilon(0.3), s, 2);
  CheckMonteCarlo(Epsilon(0.05), s, 3);
  CheckMonteCarlo(Epsilon(1.0), s, 0);
  CheckMonteCarlo(Epsilon(0.4), {0.5, 0.9, 0.1, 0.3}, 0);  // whole rankings
  // The closed form at slot 1: best remaining 1 - eps, each other eps / (m - 1).
  std::vector<uint32_t> order;
  std::vector<double> propensity;
  for (uint64_t seed = 0; seed < 1000; ++seed) {
    Rank(Epsilon(0.3), s, 0, seed, order, propensity);
    for (size_t r = 0; r + 1 < s.size(); ++r) {
      // The greedy order of what remains at r.
      std::vector<double> rest = s;
      for (size_t q = 0; q < r; ++q) rest[order[q]] = -1e9 - static_cast<double>(q);
      const uint32_t best = PartialSortOrder(rest, 1)[0];
      const double expected = order[r] == best ? 0.7 : 0.3 / static_cast<double>(s.size() - r - 1);
      EXPECT_DOUBLE_EQ(propensity[r], expected) << "seed " << seed << " slot " << r;
    }
    EXPECT_EQ(propensity.back(), 1.0);  // the last remaining item
  }
}

TEST(ExplorationTest, SoftmaxFrequenciesMatchPropensities) {
  const std::vector<double> s = {0.2, 0.7, 0.7, 0.1, 0.4};
  CheckMonteCarlo(Softmax(0.2), s, 0);
  CheckMonteCarlo(Softmax(0.2), s, 2);  // the never-shown items' sum
  CheckMonteCarlo(Softmax(0.05), s, 3);
  CheckMonteCarlo(Softmax(1.0), {0.5, 0.9, 0.1, 0.3}, 0);  // whole rankings
  CheckMonteCarlo(Softmax(0.1), {0.5, 0.9, 0.1, 0.3}, 0);
  // The closed form: exp(s / T) over the remaining items.
  std::vector<uint32_t> order;
  std::vector<double> propensity;
  for (uint64_t seed = 0; seed < 1000; ++seed) {
    Rank(Softmax(0.2), s, 3, seed, order, propensity);
    std::vector<bool> gone(s.size(), false);
    for (size_t r = 0; r < order.size(); ++r) {
      double sum = 0;
      for (size_t i = 0; i < s.size(); ++i) sum += gone[i] ? 0 : std::exp(s[i] / 0.2);
      EXPECT_NEAR(propensity[r], std::exp(s[order[r]] / 0.2) / sum, 1e-14);
      gone[order[r]] = true;
    }
  }
}

TEST(ExplorationTest, SameSeedSameRankingAndPinnedDraws) {
  std::vector<double> s(100);
  for (size_t i = 0; i < s.size(); ++i) s[i] = 0.5 + 0.4 * std::sin(static_cast<double>(i));
  std::vector<uint32_t> a, b;
  std::vector<double> pa, pb;
  for (const ExplorationConfig& c : {Epsilon(0.2), Softmax(0.05)}) {
    SCOPED_TRACE(ExplorationKindName(c.kind));
    size_t differing = 0;
    for (uint64_t seed = 0; seed < 200; ++seed) {
      Rank(c, s, 10, seed, a, pa);
      Rank(c, s, 10, seed, b, pb);
      EXPECT_EQ(a, b);
      EXPECT_EQ(pa, pb);
      Rank(c, s, 10, seed + 1, b, pb);
      differing += a != b;
    }
    EXPECT_GT(differing, 100u);  // the seed matters
  }
  // Pinned: a logged impression's seed must keep giving its ranking in later builds.
  // (Changing the generator, the order of draws or the sampling changes these.) The
  // values were computed independently, by a Python transcription of the procedure the
  // header documents (SplitMix64 from state = seed, the draws in the documented order).
  const std::vector<double> few = {0.1, 0.5, 0.3, 0.8, 0.6, 0.2};
  Rank(Epsilon(0.5), few, 0, 12345, a, pa);
  EXPECT_EQ(a, (std::vector<uint32_t>{1, 0, 3, 2, 5, 4}));
  EXPECT_EQ(pa, (std::vector<double>{0.5 / 5, 0.5 / 4, 0.5, 0.5 / 2, 0.5, 1.0}));
  Rank(Softmax(0.1), few, 0, 12345, a, pa);
  EXPECT_EQ(a, (std::vector<uint32_t>{3, 4, 1, 2, 5, 0}));
}

TEST(ExplorationTest, ValidationNamesTheField) {
  const std::pair<ExplorationConfig, const char*> cases[] = {
      {Epsilon(1.5), "exploration.epsilon: 1.5 is outside [0, 1]"},
      {Epsilon(-0.1), "exploration.epsilon: -0.1 is outside [0, 1]"},
      {Epsilon(std::nan("")), "exploration.epsilon: nan is outside [0, 1]"},
      {Softmax(0), "exploration.temperature: 0 is not a finite number > 0"},
      {Softmax(-1), "exploration.temperature: -1 is not a finite number > 0"},
      {Softmax(std::numeric_limits<double>::infinity()),
       "exploration.temperature: inf is not a finite number > 0"},
  };
  for (const auto& [c, message] : cases) {
    const absl::Status s = ValidateExploration(c);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << message;
    EXPECT_EQ(s.message(), message);
  }
  ExplorationConfig unknown;
  unknown.kind = static_cast<ExplorationKind>(7);
  EXPECT_EQ(ValidateExploration(unknown).message(), "exploration.policy: unknown policy 7");
  for (const ExplorationConfig& c :
       {Greedy(), Epsilon(0), Epsilon(1), Softmax(1e-9), Softmax(1e9)}) {
    EXPECT_TRUE(ValidateExploration(c).ok());
  }
  // The model config validates it too, naming it.
  ModelConfig config;
  config.exploration = Epsilon(2);
  EXPECT_EQ(Validate(config).message(),
            "model config: exploration.epsilon: 2 is outside [0, 1]");
  config.exploration = Softmax(0.5);
  EXPECT_TRUE(Validate(config).ok());
}

void ExpectSane(const std::vector<uint32_t>& order, const std::vector<double>& propensity,
                size_t n, size_t k) {
  const size_t want = k == 0 ? n : std::min(k, n);
  ASSERT_EQ(order.size(), want);
  ASSERT_EQ(propensity.size(), want);
  std::vector<bool> seen(n, false);
  for (size_t r = 0; r < want; ++r) {
    ASSERT_LT(order[r], n);
    EXPECT_FALSE(seen[order[r]]) << "item " << order[r] << " twice";
    seen[order[r]] = true;
    EXPECT_FALSE(std::isnan(propensity[r]));
    EXPECT_GT(propensity[r], 0.0);
    EXPECT_LE(propensity[r], 1.0);
  }
}

TEST(ExplorationTest, DegenerateInputs) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::nan("");
  std::vector<uint32_t> order = {9, 9};
  std::vector<double> propensity = {9};
  std::vector<double> first;
  const ExplorationConfig configs[] = {Greedy(), Epsilon(0.3), Epsilon(1), Softmax(0.1),
                                       Softmax(1e-300), Softmax(1e300)};
  for (const ExplorationConfig& c : configs) {
    SCOPED_TRACE(ExplorationKindName(c.kind));
    Rank(c, {}, 0, 1, order, propensity);  // no candidates
    EXPECT_TRUE(order.empty());
    EXPECT_TRUE(propensity.empty());
    FirstSlotProbabilities(c, {}, first);
    EXPECT_TRUE(first.empty());
    const std::vector<double> one = {0.4};
    for (size_t k : {0, 1, 5}) {
      Rank(c, one, k, 3, order, propensity);
      EXPECT_EQ(order, std::vector<uint32_t>{0});
      EXPECT_EQ(propensity, std::vector<double>{1.0});
    }
    FirstSlotProbabilities(c, one, first);
    EXPECT_EQ(first, std::vector<double>{1.0});
    const std::vector<std::vector<double>> inputs = {
        {0.5, 0.5, 0.5, 0.5},                 // all equal
        {0.0, 1.0, 1e-300, 0.999999999},      // extremes of a probability
        {nan, 0.3, nan},                      // NaN
        {inf, 0.2, inf, -inf},                // infinities
        {-inf, -inf, nan},                    // nothing finite
        {1e308, -1e308, 0.0},                 // differences that overflow
    };
    for (const std::vector<double>& s : inputs) {
      for (size_t k : {0, 1, 2, 10}) {
        for (uint64_t seed = 0; seed < 50; ++seed) {
          Rank(c, s, k, seed, order, propensity);
          ExpectSane(order, propensity, s.size(), k);
        }
      }
      FirstSlotProbabilities(c, s, first);
      double sum = 0;
      for (double p : first) {
        EXPECT_FALSE(std::isnan(p));
        sum += p;
      }
      EXPECT_NEAR(sum, 1.0, 1e-12);
    }
  }
  // Equal scores under softmax: uniform over the remaining items, slot by slot.
  Rank(Softmax(0.1), Scores{0.5, 0.5, 0.5, 0.5}, 0, 8, order, propensity);
  EXPECT_NEAR(propensity[0], 0.25, 1e-15);
  EXPECT_NEAR(propensity[1], 1.0 / 3, 1e-15);
  EXPECT_NEAR(propensity[2], 0.5, 1e-15);
  EXPECT_EQ(propensity[3], 1.0);
  // NaN ranks last under greedy; +inf first, sharing the weight under softmax.
  Rank(Greedy(), Scores{nan, 0.3, nan, -inf}, 0, 0, order, propensity);
  EXPECT_EQ(order, (std::vector<uint32_t>{1, 0, 2, 3}));
  FirstSlotProbabilities(Softmax(0.1), Scores{inf, 0.2, inf, -inf}, first);
  EXPECT_EQ(first, (std::vector<double>{0.5, 0.0, 0.5, 0.0}));
  // A tiny temperature is greedy in effect, with propensities that never reach 0.
  Rank(Softmax(1e-300), Scores{0.1, 0.9, 0.5}, 0, 4, order, propensity);
  EXPECT_EQ(order, (std::vector<uint32_t>{1, 2, 0}));
  EXPECT_EQ(propensity, (std::vector<double>{1.0, 1.0, 1.0}));
  // Epsilon 1 never takes the best remaining item while there is another: the best comes
  // last.
  for (uint64_t seed = 0; seed < 200; ++seed) {
    Rank(Epsilon(1), Scores{0.1, 0.9, 0.5}, 0, seed, order, propensity);
    EXPECT_EQ(order[2], 1u);
    EXPECT_EQ(propensity, (std::vector<double>{0.5, 1.0, 1.0}));
  }
}

}  // namespace
}  // namespace streamrec::model
