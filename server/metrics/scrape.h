// Scrape: one /metrics page in two steps. Gather copies every figure into a
// MetricsSnapshot through the parts' thread-safe accessors (GetStats, the updater's and
// storage's lock-free histograms, RocksDB's in-memory estimates, /proc/self, the RPC
// series); Render formats it as Prometheus text. So no core lock is held while a page
// is formatted or written to a (possibly slow) scraper, and Predict and the updater
// never wait for one. README "Metrics" lists every metric Render writes.
//
// Thread-safe: Gather from any thread (several scrapes may run at once); Render is pure.
#ifndef STREAMREC_SERVER_METRICS_SCRAPE_H_
#define STREAMREC_SERVER_METRICS_SCRAPE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "server/core/histogram.h"
#include "server/metrics/process_metrics.h"
#include "server/metrics/rpc_metrics.h"
#include "storage/database.h"
#include "streamrec/v1/admin.pb.h"

namespace streamrec::server {
class ServerCore;
}

namespace streamrec::server::metrics {

struct MetricsSnapshot {
  v1::Stats stats;  // ServerCore::GetStats
  bool ready = false;
  // The updater's (server/core/updater.h, UpdaterHistograms).
  core::Histogram::Snapshot batch_seconds, publish_seconds, persist_capture_seconds,
      freshness_seconds;
  uint64_t publish_bytes = 0;
  // Storage, when there is a data dir.
  bool has_storage = false;
  core::Histogram::Snapshot persist_write_seconds;
  uint64_t persist_bytes = 0;
  storage::Database::SizeEstimates db;
  ProcessFigures process;
  std::vector<RpcMetrics::MethodFigures> rpcs;  // empty without the interceptor
};

// Gather: the figures now. `rpcs` may be null (no per-RPC series).
MetricsSnapshot Gather(const ServerCore& core, const RpcMetrics* rpcs);

// Render: the Prometheus text page (version 0.0.4) of a snapshot.
std::string Render(const MetricsSnapshot& s);

}  // namespace streamrec::server::metrics

#endif  // STREAMREC_SERVER_METRICS_SCRAPE_H_
