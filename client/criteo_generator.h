// CriteoStream: a seeded synthetic click log with the shape of Criteo's display-ads data,
// used by `streamrec generate --layout criteo` and the quality benchmarks. Header-only,
// standard library only; deterministic for a seed on every platform (the effects are
// hashes of (seed, field, value), the draws come from std::mt19937_64 through our own
// inverse-CDF code, not std:: distributions whose output differs between libraries).
//
// An event has up to 13 numeric fields I1..I13 (counts: round(exp(N(mu_k, 1.5))) - 1,
// at most 10,000, 10% missing), 26 categorical fields C1..C26 (Zipf(1.1)-distributed
// over cardinalities from 10 to 100,000, 5% missing) and an item (Zipf(1.1) over
// `items`). The click probability is sigmoid of
//   bias + sum_k a_k * ln(1 + I_k)
//        + sum_j e_j(C_j) + e(item)
//        + sum over hidden pairs (A, B) of <f_A(a), g_B(b)>
// with per-value effects e ~ N(0, 0.4) (item N(0, 0.6)), numeric slopes a_k ~ N(0, 0.15)
// and rank-4 interactions between the hidden pairs (C1, item), (C2, C3), (C4, C5),
// (C6, item): what crosses and factorization machines can find, and logistic regression
// over the plain fields cannot. The bias puts the click rate near 25%.
//
// `features` (5..40, default 40) keeps only the item and the first fields in the
// proportion 13 numeric : 26 categorical (5: the item, I1, C1, C2, C3); the truth uses
// only the fields kept, so a smaller event is a complete, smaller problem.
// OptimalLogLoss() is the mean logloss of the true probabilities so far: no model beats
// it in expectation. Thread-compatible.
#ifndef STREAMREC_CLIENT_CRITEO_GENERATOR_H_
#define STREAMREC_CLIENT_CRITEO_GENERATOR_H_

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace streamrec::client {

struct CriteoEvent {
  // numbers[k] is I(k+1), NaN when missing; cats[j] is the value index of C(j+1), -1
  // when missing; only the fields kept (CriteoStream::numeric_fields/categorical_fields).
  std::vector<double> numbers;
  std::vector<int> cats;
  int item = 0;
  double probability = 0;
  double label = 0;
};

class CriteoStream {
 public:
  static constexpr int kNumeric = 13, kCategorical = 26;

  CriteoStream(int features, int items, uint64_t seed)
      : seed_(seed), rng_(seed) {
    features = std::clamp(features, 5, 1 + kNumeric + kCategorical);
    numeric_ = static_cast<int>(std::lround((features - 1) * double{kNumeric} /
                                            (kNumeric + kCategorical)));
    categorical_ = features - 1 - numeric_;
    static constexpr int kCards[] = {1000, 100, 10000, 50, 500, 100000, 20, 3000, 30000, 10};
    for (int j = 0; j < categorical_; ++j) {
      cdf_.push_back(ZipfCdf(kCards[j % 10]));
    }
    item_cdf_ = ZipfCdf(items);
    // Means of the log-normal counts (ln(1 + x) averages near mu), and the bias that
    // puts the click rate near 25% (the effects spread the logit, so the bias sits
    // below logit(0.25)).
    for (int k = 0; k < numeric_; ++k) {
      mu_.push_back(0.5 + 5.5 * Uniform(Mix(seed_, 1000 + k)));
      slope_.push_back(0.15 * Normal(Mix(seed_, 2000 + k)));
    }
    bias_ = -1.5;
    for (int k = 0; k < numeric_; ++k) bias_ -= slope_[k] * mu_[k];
    // Hidden pairs whose fields are kept; field -1 is the item.
    for (auto [a, b] : {std::pair{0, -1}, {1, 2}, {3, 4}, {5, -1}}) {
      if (a < categorical_ && b < categorical_) pairs_.push_back({a, b});
    }
  }

  int numeric_fields() const { return numeric_; }
  int categorical_fields() const { return categorical_; }

  CriteoEvent Next() {
    CriteoEvent e;
    double logit = bias_;
    for (int k = 0; k < numeric_; ++k) {
      if (U() < 0.1) {
        e.numbers.push_back(std::nan(""));
        continue;
      }
      // Log-normal count: ln(1 + x) ~ N(mu_k, 1.5), capped at 10,000.
      const double x = std::min(10000.0, std::floor(std::exp(mu_[k] + 1.5 * NormalDraw())));
      const double count = std::max(0.0, x - 1);
      e.numbers.push_back(count);
      logit += slope_[k] * std::log1p(count);
    }
    for (int j = 0; j < categorical_; ++j) {
      if (U() < 0.05) {
        e.cats.push_back(-1);
        continue;
      }
      const int v = Draw(cdf_[j]);
      e.cats.push_back(v);
      logit += 0.4 * Normal(Mix(seed_, Key(j, v)));
    }
    e.item = Draw(item_cdf_);
    logit += 0.6 * Normal(Mix(seed_, Key(1000, e.item)));
    for (const auto& [a, b] : pairs_) {
      const int va = e.cats[a];
      const int vb = b < 0 ? e.item : e.cats[b];
      if (va < 0 || vb < 0) continue;
      double dot = 0;
      for (int f = 0; f < 4; ++f) {
        dot += Normal(Mix(seed_, Key(3000 + a * 8 + f, va))) *
               Normal(Mix(seed_, Key(4000 + (b + 1) * 8 + f, vb)));
      }
      logit += 0.5 * dot;
    }
    e.probability = 1.0 / (1.0 + std::exp(-logit));
    e.label = U() < e.probability ? 1.0 : 0.0;
    loss_sum_ -= e.label ? std::log(e.probability) : std::log(1 - e.probability);
    ++count_;
    return e;
  }

  double OptimalLogLoss() const { return count_ ? loss_sum_ / count_ : 0; }

 private:
  static uint64_t Key(int field, int value) {
    return (uint64_t(uint32_t(field)) << 32) | uint32_t(value);
  }
  // SplitMix64 finalizer of (seed, key): the fixed hash behind every effect.
  static uint64_t Mix(uint64_t seed, uint64_t key) {
    uint64_t z = seed * 0x9E3779B97F4A7C15ULL + key + 0x632BE59BD9B4E019ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  static double Uniform(uint64_t h) { return ((h >> 11) + 0.5) * (1.0 / 9007199254740992.0); }
  // A standard normal from one hash (Box-Muller on its two 32-bit halves).
  static double Normal(uint64_t h) {
    const double u1 = ((h >> 32) + 0.5) / 4294967296.0;
    const double u2 = ((h & 0xffffffffULL) + 0.5) / 4294967296.0;
    return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  double U() { return Uniform(rng_()); }
  double NormalDraw() { return Normal(rng_()); }
  static std::vector<double> ZipfCdf(int n) {
    std::vector<double> cdf(n);
    double sum = 0;
    for (int v = 0; v < n; ++v) cdf[v] = sum += std::pow(v + 1.0, -1.1);
    for (double& c : cdf) c /= sum;
    return cdf;
  }
  int Draw(const std::vector<double>& cdf) {
    const double u = U();
    const auto it = std::lower_bound(cdf.begin(), cdf.end(), u);
    return static_cast<int>(std::min<std::ptrdiff_t>(it - cdf.begin(), static_cast<std::ptrdiff_t>(cdf.size()) - 1));
  }


  uint64_t seed_;
  std::mt19937_64 rng_;
  int numeric_ = 0, categorical_ = 0;
  std::vector<std::vector<double>> cdf_;
  std::vector<double> item_cdf_;
  std::vector<double> mu_, slope_;
  double bias_ = 0;
  std::vector<std::pair<int, int>> pairs_;
  double loss_sum_ = 0;
  uint64_t count_ = 0;
};

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_CRITEO_GENERATOR_H_
