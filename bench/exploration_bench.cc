// The cost of drawing a ranking (model/exploration.h) over 100 candidates, per policy,
// for the first 10 positions and for all 100: what exploration adds to Predict beyond
// the scoring (README "Exploration").
//   build/bin/exploration_bench
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "model/exploration.h"

namespace streamrec::model {
namespace {

std::vector<double> Scores(size_t n) {
  std::vector<double> s(n);
  uint64_t x = 42;
  for (double& v : s) {  // distinct click probabilities in (0.01, 0.31)
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    v = 0.01 + 0.3 * static_cast<double>(x >> 11) / static_cast<double>(uint64_t{1} << 53);
  }
  return s;
}

void BM_Rank(benchmark::State& state, ExplorationConfig c) {
  const std::vector<double> scores = Scores(100);
  const size_t k = static_cast<size_t>(state.range(0));
  std::vector<uint32_t> order;
  std::vector<double> propensity;
  uint64_t seed = 1;
  for (auto _ : state) {
    Rank(c, scores, k, seed++, order, propensity);
    benchmark::DoNotOptimize(order.data());
  }
}

ExplorationConfig Policy(ExplorationKind kind, double temperature = 0.1) {
  ExplorationConfig c;
  c.kind = kind;
  c.temperature = temperature;
  return c;
}

BENCHMARK_CAPTURE(BM_Rank, greedy, Policy(ExplorationKind::kGreedy))->Arg(10)->Arg(100);
BENCHMARK_CAPTURE(BM_Rank, epsilon_greedy, Policy(ExplorationKind::kEpsilonGreedy))
    ->Arg(10)->Arg(100);
BENCHMARK_CAPTURE(BM_Rank, softmax, Policy(ExplorationKind::kSoftmax))->Arg(10)->Arg(100);
BENCHMARK_CAPTURE(BM_Rank, softmax_t0001, Policy(ExplorationKind::kSoftmax, 0.001))
    ->Arg(10)->Arg(100);

}  // namespace
}  // namespace streamrec::model

BENCHMARK_MAIN();
