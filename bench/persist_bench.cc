// persist_bench: persisting a snapshot of a 2^20-row FTRL model (weights + z + n: 12 MB)
// to RocksDB as a function of how many rows changed since the previous persist: the
// capture (the updater's pause: copying changed chunks) and the write (on the storage
// thread). The full write (every row changed) is the baseline in the same run.
//   build/bin/persist_bench [repetitions]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "model/linear_model.h"
#include "storage/snapshot_store.h"

using namespace streamrec;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 5;
  const std::string dir = std::filesystem::temp_directory_path() / "streamrec-persist-bench";
  std::filesystem::remove_all(dir);
  auto db = storage::Database::Open(dir);
  if (!db.ok()) return 1;
  storage::SnapshotStore store(db->get(), 5);
  if (!store.Open().ok()) return 1;
  model::ModelConfig config;  // defaults: 2^20 rows, FTRL
  model::LinearModel m(config);
  model::StreamMetrics metrics(10000);
  std::mt19937_64 rng(5);
  uint64_t version = 0;
  std::printf("%-14s %11s %9s %12s %8s\n", "changed rows", "capture ms", "write ms", "bytes",
              "vs full");
  double full_ms = 0;
  for (int64_t changed : {int64_t{1} << 21, int64_t{1}, int64_t{100}, int64_t{10000}}) {
    double ms = 0, capture_ms = 0;
    uint64_t bytes = 0;
    // Warm up past the retention window (5), so older snapshots' evictions are the
    // steady state's, not the previous case's.
    for (int r = 0; r < 5 + reps; ++r) {
      for (int64_t i = 0; i < changed; ++i) m.Train({{{rng(), 1.0f}}, 1.0f, 1.0f, 0});
      storage::SnapshotMeta meta;
      meta.version = ++version;
      const auto t0 = Clock::now();
      storage::SnapshotStore::Pending pending = store.Capture(m, meta, metrics.ExportState());
      const auto t1 = Clock::now();
      auto written = store.Write(std::move(pending));
      if (!written.ok()) return 1;
      if (r < 5) continue;
      capture_ms += std::chrono::duration<double, std::milli>(t1 - t0).count();
      ms += std::chrono::duration<double, std::milli>(Clock::now() - t1).count();
      bytes += *written;
    }
    ms /= reps;
    capture_ms /= reps;
    if (full_ms == 0) full_ms = ms + capture_ms;
    std::printf("%-14s %11.2f %9.1f %12lu %8.3f\n",
                changed == (int64_t{1} << 21) ? "all (baseline)" : std::to_string(changed).c_str(),
                capture_ms, ms, static_cast<unsigned long>(bytes / reps),
                (ms + capture_ms) / full_ms);
  }
  (*db).reset();  // closed (its background work done) before its files go
  std::filesystem::remove_all(dir);
  return 0;
}
