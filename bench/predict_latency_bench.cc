// predict_latency_bench: Predict latency (snapshot acquire + scoring 100 candidates)
// from a serving thread, first with the updater idle (baseline), then while the updater
// trains flat out and publishes every 20 ms. Prints p50/p99/p99.9 of both phases and
// their ratio: hot-swapping must not cause latency spikes.
//   build/bin/predict_latency_bench [seconds_per_phase]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "model/hash.h"
#include "model/linear_model.h"
#include "server/core/pipeline.h"

using namespace streamrec;
using Clock = std::chrono::steady_clock;

namespace {

struct Percentiles {
  double p50, p99, p999;
  uint64_t publications;
};

std::vector<model::FeatureVector> MakeItems(int n) {
  std::vector<model::FeatureVector> items;
  for (int i = 0; i < n; ++i) {
    items.push_back({{model::HashCategory(model::HashName("item_id"), std::to_string(i)), 1.0f},
                     {model::HashCategory(model::HashName("genre"), std::to_string(i % 7)), 1.0f}});
  }
  return items;
}

Percentiles Measure(core::SnapshotSlot& slot, double seconds, const core::Updater& u) {
  const auto items = MakeItems(100);
  const model::FeatureVector context = {{model::HashCategory(model::HashName("user"), "u1"), 1.0f}};
  std::vector<double> micros;
  std::vector<double> scores(items.size());
  const uint64_t pubs_before = u.Stats().publications;
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  double sink = 0;
  while (Clock::now() < end) {
    const auto t0 = Clock::now();
    auto snap = slot.Get();
    snap->Score(context, items, scores);
    for (double x : scores) sink += x;
    snap.reset();
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  if (sink == 42) std::puts("");
  std::sort(micros.begin(), micros.end());
  auto at = [&](double q) { return micros[static_cast<size_t>(q * (micros.size() - 1))]; };
  return {at(0.5), at(0.99), at(0.999), u.Stats().publications - pubs_before};
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::stod(argv[1]) : 3.0;
  model::ModelConfig config;
  config.hash_bits = 22;
  core::PipelineOptions options;
  options.updater.publish_interval_ms = 20;
  core::Pipeline pipeline(std::make_unique<model::LinearModel>(config), options, nullptr, nullptr);
  core::EventQueue& queue = pipeline.queue();
  core::SnapshotSlot& slot = pipeline.slot();
  core::Updater& updater = pipeline.updater();
  pipeline.Start(1);

  const Percentiles idle = Measure(slot, seconds, updater);

  std::atomic<bool> stop{false};
  std::thread producer([&] {
    std::mt19937_64 rng(3);
    while (!stop.load()) {
      auto batch = std::make_unique<core::EventBatch>();
      for (int i = 0; i < 256; ++i) {
        model::Example e;
        for (int f = 0; f < 10; ++f) e.features.push_back({rng(), 1.0f});  // long tail
        e.label = static_cast<float>(rng() % 2);
        batch->examples.push_back(std::move(e));
      }
      while (!stop.load() && !queue.TryPush(batch)) std::this_thread::yield();
    }
  });
  const Percentiles busy = Measure(slot, seconds, updater);
  stop = true;
  producer.join();
  pipeline.Stop();
  const core::UpdaterStats s = updater.Stats();

  std::printf("Predict of 100 candidates on a 2^22-row model, %.0f s per phase\n", seconds);
  std::printf("%-34s %9s %9s %9s %8s\n", "phase", "p50 us", "p99 us", "p99.9 us", "publish");
  std::printf("%-34s %9.2f %9.2f %9.2f %8lu\n", "updater idle (baseline)", idle.p50, idle.p99,
              idle.p999, static_cast<unsigned long>(idle.publications));
  std::printf("%-34s %9.2f %9.2f %9.2f %8lu\n", "training + publishing every 20 ms", busy.p50,
              busy.p99, busy.p999, static_cast<unsigned long>(busy.publications));
  std::printf("ratio busy/idle: p50 %.2f, p99 %.2f, p99.9 %.2f; %lu events trained, mean "
              "publish %.0f us, last publish copied %lu chunks\n",
              busy.p50 / idle.p50, busy.p99 / idle.p99, busy.p999 / idle.p999,
              static_cast<unsigned long>(s.events_applied), s.publish_micros_mean,
              static_cast<unsigned long>(s.last_publish_chunks));
  return 0;
}
