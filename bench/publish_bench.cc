// publish_bench: cost of publishing a snapshot as a function of how many rows changed
// since the last one, on a 2^20-row logistic-regression table. The full copy
// (every chunk changed) is the baseline measured in the same run.
//   build/bin/publish_bench
#include <benchmark/benchmark.h>

#include <random>

#include "model/linear_model.h"

namespace streamrec {
namespace {

void BM_PublishChangedRows(benchmark::State& state) {
  model::ModelConfig c;
  c.hash_bits = 20;
  c.optimizer.kind = model::OptimizerKind::kSgd;
  model::LinearModel m(c);
  m.Publish(0, 0, nullptr);
  const int64_t changed = state.range(0);
  std::mt19937_64 rng(1);
  uint64_t version = 1;
  model::PublishCost cost;
  for (auto _ : state) {
    state.PauseTiming();
    for (int64_t i = 0; i < changed; ++i) {
      m.Train({{{rng(), 1.0f}}, 1.0f, 1.0f, 0});  // one random row (and the bias)
    }
    state.ResumeTiming();
    auto s = m.Publish(version++, 0, &cost);
    benchmark::DoNotOptimize(s);
  }
  state.counters["chunks_copied"] = static_cast<double>(cost.chunks_copied);
}
BENCHMARK(BM_PublishChangedRows)->Arg(1)->Arg(100)->Arg(1000)->Arg(10000)->Arg(100000)
    ->Unit(benchmark::kMicrosecond);

void BM_FullCopyBaseline(benchmark::State& state) {
  model::ParamTable t((1 << 20) + 1);
  // Dense: an all-zero chunk would be the one shared zero chunk, not a copy.
  for (size_t i = 0; i < t.size(); ++i) t.Set(i, 1.0f + static_cast<float>(i % 7));
  for (auto _ : state) {
    model::FrozenTable f = t.Freeze(nullptr);
    benchmark::DoNotOptimize(f);
  }
}
BENCHMARK(BM_FullCopyBaseline)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace streamrec

BENCHMARK_MAIN();
