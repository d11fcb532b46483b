// ClickStream: a seeded synthetic click stream from a known logistic model, used by
// `streamrec generate` and the tests. Header-only, standard library only.
//   logit = -1 + user_bias[u] + item_bias[i] + pair[u][i],  label ~ Bernoulli(sigmoid)
// user_bias ~ N(0, 0.5), item_bias ~ N(0, 1), pair ~ N(0, 1) (the user x item
// interaction); user and item uniform. OptimalLogLoss() is the mean logloss of the true
// probabilities over the events drawn so far: no model beats it in expectation.
// Deterministic for a seed (std::mt19937_64 and std:: distributions of libstdc++).
// Thread-compatible.
#ifndef STREAMREC_CLIENT_CLICK_GENERATOR_H_
#define STREAMREC_CLIENT_CLICK_GENERATOR_H_

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace streamrec::client {

struct ClickEvent {
  int user = 0;
  int item = 0;
  double probability = 0;
  double label = 0;
};

class ClickStream {
 public:
  ClickStream(int users, int items, uint64_t seed) : users_(users), items_(items), rng_(seed) {
    std::normal_distribution<double> user(0, 0.5), item(0, 1.0), pair(0, 1.0);
    for (int u = 0; u < users; ++u) user_bias_.push_back(user(rng_));
    for (int i = 0; i < items; ++i) item_bias_.push_back(item(rng_));
    for (int k = 0; k < users * items; ++k) pair_.push_back(pair(rng_));
  }

  ClickEvent Next() {
    ClickEvent e;
    e.user = std::uniform_int_distribution<int>(0, users_ - 1)(rng_);
    e.item = std::uniform_int_distribution<int>(0, items_ - 1)(rng_);
    const double logit = -1.0 + user_bias_[e.user] + item_bias_[e.item] +
                         pair_[e.user * items_ + e.item];
    e.probability = 1.0 / (1.0 + std::exp(-logit));
    e.label = std::uniform_real_distribution<double>(0, 1)(rng_) < e.probability ? 1.0 : 0.0;
    loss_sum_ += -(e.label * std::log(e.probability) +
                   (1 - e.label) * std::log(1 - e.probability));
    ++count_;
    return e;
  }

  double OptimalLogLoss() const { return count_ ? loss_sum_ / count_ : 0; }

 private:
  int users_, items_;
  std::mt19937_64 rng_;
  std::vector<double> user_bias_, item_bias_, pair_;
  double loss_sum_ = 0;
  uint64_t count_ = 0;
};

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_CLICK_GENERATOR_H_
