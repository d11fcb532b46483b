#include "server/metrics/scrape.h"

#include <algorithm>
#include <utility>

#include "common/version.h"
#include "server/metrics/exposition.h"
#include "server/persistence.h"
#include "server/server_core.h"

namespace streamrec::server::metrics {
namespace {

constexpr char kPrefix[] = "streamrec_";

// Page: the Exposition with the project's prefix and a one-call family+sample.
class Page {
 public:
  void Counter(const std::string& name, const std::string& help, uint64_t value) {
    One(name, "counter", help, value);
  }
  void Gauge(const std::string& name, const std::string& help, double value) {
    One(name, "gauge", help, value);
  }
  void Histogram(const std::string& name, const std::string& help,
                 const core::Histogram::Snapshot& h) {
    e_.Family(kPrefix + name, "histogram", help);
    e_.Histogram(kPrefix + name, {}, h);
  }
  Exposition& raw() { return e_; }

 private:
  template <typename T>
  void One(const std::string& name, const char* type, const std::string& help, T value) {
    e_.Family(kPrefix + name, type, help);
    e_.Sample(kPrefix + name, {}, value);
  }
  Exposition e_;
};

void Progressive(Exposition& e, const v1::Stats& s) {
  struct Metric {
    const char* name;
    const char* help;
    double (v1::ProgressiveMetrics::*get)() const;
  };
  const Metric metrics[] = {
      {"streamrec_progressive_logloss",
       "Progressive validation logloss (each event scored before training on it).",
       &v1::ProgressiveMetrics::logloss},
      {"streamrec_progressive_auc", "Progressive validation AUC (overall: 4096-bin histogram).",
       &v1::ProgressiveMetrics::auc},
      {"streamrec_progressive_normalized_entropy",
       "Progressive logloss divided by the entropy of the observed click rate.",
       &v1::ProgressiveMetrics::normalized_entropy},
      {"streamrec_progressive_calibration",
       "Progressive mean prediction divided by the observed click rate.",
       &v1::ProgressiveMetrics::calibration},
  };
  for (const Metric& m : metrics) {
    e.Family(m.name, "gauge", m.help);
    e.Sample(m.name, {{"scope", "overall"}}, (s.progressive().*m.get)());
    e.Sample(m.name, {{"scope", "window"}}, (s.progressive_window().*m.get)());
  }
  e.Family("streamrec_progressive_events", "gauge",
           "Events the progressive metrics cover (window: at most --metrics_window).");
  e.Sample("streamrec_progressive_events", {{"scope", "overall"}}, s.progressive().events());
  e.Sample("streamrec_progressive_events", {{"scope", "window"}}, s.progressive_window().events());
}

void Rpcs(Exposition& e, const std::vector<RpcMetrics::MethodFigures>& rpcs) {
  if (rpcs.empty()) return;
  e.Family("streamrec_grpc_requests_total", "counter",
           "gRPC calls finished, by service, method and status code.");
  for (const RpcMetrics::MethodFigures& m : rpcs) {
    for (int c = 0; c < kStatusCodes; ++c) {
      // OK always (a zero series per method), other codes once they occurred.
      if (c != 0 && m.calls[c] == 0) continue;
      e.Sample("streamrec_grpc_requests_total",
               {{"service", m.service}, {"method", m.name}, {"code", StatusCodeName(c)}},
               m.calls[c]);
    }
  }
  e.Family("streamrec_grpc_request_duration_seconds", "histogram",
           "gRPC call latency from arrival to status sent (a stream: its whole life).");
  for (const RpcMetrics::MethodFigures& m : rpcs) {
    e.Histogram("streamrec_grpc_request_duration_seconds",
                {{"service", m.service}, {"method", m.name}}, m.seconds);
  }
}

void Process(Exposition& e, const ProcessFigures& p) {
  // The standard names every Prometheus client library exports (no project prefix).
  auto one = [&e](const char* name, const char* type, const char* help, double v) {
    e.Family(name, type, help);
    e.Sample(name, {}, v);
  };
  one("process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.",
      p.cpu_seconds);
  one("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
      static_cast<double>(p.resident_bytes));
  one("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
      static_cast<double>(p.virtual_bytes));
  one("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch in seconds.",
      p.start_time_seconds);
  one("process_open_fds", "gauge", "Number of open file descriptors.",
      static_cast<double>(p.open_fds));
  one("process_max_fds", "gauge", "Maximum number of open file descriptors.",
      static_cast<double>(p.max_fds));
  one("process_threads", "gauge", "Number of OS threads in the process.",
      static_cast<double>(p.threads));
}

}  // namespace

MetricsSnapshot Gather(const ServerCore& core, const RpcMetrics* rpcs) {
  MetricsSnapshot s;
  core.GetStats(s.stats);
  s.ready = core.ready();
  const core::UpdaterHistograms& u = core.updater_histograms();
  s.batch_seconds = u.batch_seconds.Read();
  s.publish_seconds = u.publish_seconds.Read();
  s.persist_capture_seconds = u.persist_capture_seconds.Read();
  s.freshness_seconds = u.freshness_seconds.Read();
  s.publish_bytes = u.publish_bytes.load(std::memory_order_relaxed);
  if (const Persistence* p = core.persistence()) {
    s.has_storage = true;
    s.persist_write_seconds = p->write_seconds().Read();
    s.persist_bytes = p->bytes_written();
    s.db = p->db().EstimateSizes();
  }
  s.process = ReadProcessFigures();
  if (rpcs != nullptr) s.rpcs = rpcs->Read();
  return s;
}

std::string Render(const MetricsSnapshot& m) {
  const v1::Stats& s = m.stats;
  Page page;
  Exposition& e = page.raw();

  e.Family("streamrec_build_info", "gauge", "Always 1; the labels name the build.");
  e.Sample("streamrec_build_info",
           {{"version", ProjectVersion()}, {"git_revision", GitRevision()},
            {"build_type", BuildType()}},
           uint64_t{1});
  page.Gauge("ready", "1 once recovery is done and Predict is served.", m.ready ? 1 : 0);

  Rpcs(e, m.rpcs);

  // Events.
  page.Counter("events_received_total", "Events in Observe requests received.",
               s.events_received());
  page.Counter("events_accepted_total", "Events acknowledged (logged) to the client.",
               s.events_accepted());
  page.Counter("events_applied_total",
               "Events trained (restored with the snapshot across restarts).", s.events_applied());
  e.Family("streamrec_events_rejected_total", "counter", "Events refused, by reason.");
  std::vector<std::pair<std::string, uint64_t>> rejected(s.events_rejected().begin(),
                                                         s.events_rejected().end());
  std::sort(rejected.begin(), rejected.end());
  for (const auto& [reason, n] : rejected) {
    e.Sample("streamrec_events_rejected_total", {{"reason", reason}}, n);
  }
  page.Counter("events_deduplicated_total",
               "Events dropped because their event_id was in the dedup window.",
               s.duplicates_dropped());
  page.Counter("requests_malformed_total", "Requests whose bytes were not a valid message.",
               s.requests_malformed());
  page.Counter("updates_skipped_nonfinite_total",
               "Updates dropped because they would make a weight non-finite.",
               s.updates_skipped_nonfinite());
  page.Counter("candidates_scored_total", "Candidates scored by Predict.", s.candidates_scored());
  page.Gauge("observe_streams_open", "ObserveStream calls open.",
             static_cast<double>(s.streams_open()));
  page.Counter("observe_streams_rejected_total",
               "ObserveStream calls refused (--max_concurrent_streams).", s.streams_rejected());

  // Queue.
  page.Gauge("queue_depth_events", "Events waiting between the handlers and the updater.",
             static_cast<double>(s.queue_depth()));
  page.Gauge("queue_capacity_events", "Events the queue holds (--queue_capacity).",
             static_cast<double>(s.queue_capacity()));
  page.Gauge("queue_bytes", "Bytes of converted events waiting.",
             static_cast<double>(s.queue_bytes()));
  page.Gauge("queue_capacity_bytes", "Bytes the waiting events may hold (--queue_max_bytes).",
             static_cast<double>(s.queue_max_bytes()));

  // Updater, publication, persistence.
  page.Histogram("updater_batch_duration_seconds", "Time the updater took to train one batch.",
                 m.batch_seconds);
  page.Counter("publications_total", "Snapshots published to serving.", s.publications());
  page.Histogram("publish_duration_seconds", "Time one snapshot publication took.",
                 m.publish_seconds);
  page.Counter("publish_bytes_total", "Parameter chunk bytes copied by publications.",
               m.publish_bytes);
  page.Histogram("observe_to_serve_seconds",
                 "Freshness: from an event's admission to serving a snapshot trained on it "
                 "(counted once per event).",
                 m.freshness_seconds);
  page.Gauge("model_version", "Version of the snapshot being served.",
             static_cast<double>(s.model_version()));
  page.Gauge("persisted_version", "Newest snapshot version written to disk.",
             static_cast<double>(s.persisted_version()));
  page.Gauge("log_last_seq", "Sequence number of the last event trained.",
             static_cast<double>(s.last_seq()));
  page.Counter("snapshots_persisted_total", "Snapshots written to disk.", s.snapshots_persisted());
  page.Counter("persist_failures_total", "Snapshot captures or writes that failed.",
               s.snapshot_failures());
  page.Histogram("persist_capture_duration_seconds",
                 "Time the updater took to capture a checkpoint's changed chunks.",
                 m.persist_capture_seconds);
  page.Histogram("persist_write_duration_seconds",
                 "Time the storage thread took to write one snapshot (chunks, manifest, "
                 "retention).",
                 m.persist_write_seconds);
  page.Counter("persist_bytes_total", "Bytes of snapshots written to disk.", m.persist_bytes);

  Progressive(e, s);

  // Storage.
  page.Gauge("storage_writable", "1 while the data dir takes writes.",
             s.storage_writable() ? 1 : 0);
  page.Counter("storage_recoveries_total", "Reopens of the database after a write failure.",
               s.storage_recoveries());
  page.Counter("wal_syncs_total", "fsyncs of RocksDB's write-ahead log.", s.wal_syncs());
  page.Gauge("log_bytes", "Approximate bytes of the event log.",
             static_cast<double>(s.log_bytes()));
  if (m.has_storage) {
    page.Gauge("rocksdb_live_data_bytes", "RocksDB's estimate of live data (all column families).",
               static_cast<double>(m.db.live_data_bytes));
    page.Gauge("rocksdb_pending_compaction_bytes",
               "RocksDB's estimate of bytes compaction still has to rewrite.",
               static_cast<double>(m.db.pending_compaction_bytes));
    page.Gauge("rocksdb_sst_files_bytes", "Bytes of RocksDB's SST files.",
               static_cast<double>(m.db.sst_files_bytes));
    page.Gauge("rocksdb_memtable_bytes", "Bytes of RocksDB's memtables.",
               static_cast<double>(m.db.memtable_bytes));
  }

  Process(e, m.process);
  return e.Take();
}

}  // namespace streamrec::server::metrics
