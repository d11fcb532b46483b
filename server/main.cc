// streamrec-server: the online-learning recommendation server. Flags are documented in
// the README (`streamrec-server --help` lists them). SIGINT/SIGTERM stop it cleanly:
// readiness goes NOT_SERVING, open ObserveStreams end with their acknowledged counts,
// calls in flight finish, accepted events are trained. SIGHUP reloads the tokens file
// and checks the TLS files (server/security/security_flags.h) without stopping.
#include <atomic>
#include <chrono>
#include <csignal>
#include <malloc.h>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <unistd.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/version.h"
#include "google/protobuf/stubs/logging.h"
#include "grpc/support/log.h"
#include "server/flag_env.h"
#include "server/grpc_server.h"
#include "server/metrics/metrics_flags.h"
#include "server/model_config_proto.h"
#include "server/security/reload_signal.h"
#include "server/security/security_flags.h"

ABSL_FLAG(std::string, listen, "0.0.0.0:50051", "Address to listen on (host:port).");
ABSL_FLAG(std::string, data_dir, "./data", "Directory for the server's persistent state.");
ABSL_FLAG(std::string, model_config, "",
          "Text-format streamrec.v1.ModelConfig file; empty = defaults (README).");
ABSL_FLAG(int64_t, queue_capacity, 100000, "Events the queue holds before pushing back.");
ABSL_FLAG(int64_t, max_candidates, 1000, "Candidates per Predict request.");
ABSL_FLAG(int64_t, max_events_per_request, 10000, "Events per Observe request.");
ABSL_FLAG(int64_t, max_features_per_example, 4096, "Hashed features per example.");
ABSL_FLAG(int64_t, max_message_bytes, 4 << 20, "Largest accepted request message in bytes.");
ABSL_FLAG(int64_t, publish_interval_ms, 20, "Publish a snapshot at least this often (ms).");
ABSL_FLAG(int64_t, publish_every_events, 10000, "...or after this many events.");
ABSL_FLAG(int64_t, metrics_window, 10000, "Events in the recent-window progressive metrics.");
ABSL_FLAG(std::string, durability, "async",
          "none | async | sync: when Observe acknowledges (README, Durability).");
ABSL_FLAG(int64_t, log_record_format, 5,
          "Event log records: 5 (compact), or 3 while an older build may read the log.");
ABSL_FLAG(int64_t, persist_interval_s, 10, "Persist a snapshot this often (0: only on stop).");
ABSL_FLAG(int64_t, snapshots_retained, 5, "Persisted snapshots kept.");
ABSL_FLAG(int64_t, flush_partial_batch_ms, 1000,
          "A mini-batch model (DNN, DeepFM) with pending events applies them as a partial "
          "batch after this long without new events, and at a clean stop; the flush is "
          "recorded in the event log (0: off, batches are always full).");
ABSL_FLAG(int64_t, dedup_window, 100000,
          "Drop events whose event_id was among the last N logged, so a retried Observe "
          "trains once (0: off). The log keeps its last N events through truncation.");
ABSL_FLAG(bool, log_impressions, false,
          "Log every Predict's impression for joined rewards, unless the request sets "
          "log_impression (README, Joined rewards).");
ABSL_FLAG(absl::Duration, join_window, absl::Hours(1),
          "How long after Predict a reward may name only its prediction_id (1s to 720h); "
          "then the shown items without a reward get the default reward.");
ABSL_FLAG(std::string, default_reward, "0",
          "Label of a shown item that got no reward within --join_window, in [0, 1], or "
          "none (no default events).");
ABSL_FLAG(double, default_reward_weight, 1.0, "Importance weight of default-reward events.");
ABSL_FLAG(int64_t, default_reward_top_k, 0,
          "Only the first k returned items of an impression get a default reward (0: all "
          "returned).");
ABSL_FLAG(bool, start_fresh, false,
          "Delete the data in --data_dir if it was written by an incompatible model.");
ABSL_FLAG(bool, accept_data_loss, false,
          "Start even if no snapshot in --data_dir verifies or the event log has a gap, "
          "losing what they held (refused otherwise).");
ABSL_FLAG(int64_t, queue_max_bytes, int64_t{256} << 20,
          "Bytes of converted events held between the handlers and the model.");
ABSL_FLAG(int64_t, max_vector_fields, 10000, "Distinct vector fields the server registers.");
ABSL_FLAG(int64_t, max_admin_streams, 2, "Snapshot export/import streams open at once.");
ABSL_FLAG(int64_t, storage_retry_ms, 1000,
          "How often an unwritable data dir (e.g. a full disk) is retried (ms).");
ABSL_FLAG(int64_t, testing_kill_during_persist, 0,
          "Tests only: SIGKILL the process between the chunks and the manifest of the Nth "
          "snapshot persisted.");
ABSL_FLAG(int64_t, shutdown_grace_ms, 5000, "Time calls in flight get to finish on stop.");
ABSL_FLAG(int64_t, grpc_memory_bytes, int64_t{1} << 30,
          "Bound on gRPC's own memory (connections, calls, message buffers), in bytes.");
ABSL_FLAG(std::string, health_listen, "",
          "A plaintext address serving only the gRPC health service, with the serving "
          "port's statuses: for probes without TLS (Kubernetes' gRPC probes) when "
          "--tls_cert is set. Empty: none.");
ABSL_FLAG(std::string, log_format, "text",
          "Log records: text (timestamp, level, message, key=value fields) or json (one "
          "object per line). The startup record is JSON in either.");
ABSL_FLAG(bool, bench_service, false,
          "Serve the benchmark-only streamrec.v1.Bench/Echo (a no-op of chosen response "
          "size, for `streamrec bench predict`'s transport baseline) on the serving port.");
ABSL_FLAG(int64_t, max_concurrent_streams, 1000,
          "ObserveStream calls open at once; more are refused with RESOURCE_EXHAUSTED.");

namespace {

namespace log = streamrec::log;

// RateLimit: at most one line per `interval_ms` from a library a client can make log at
// will; Allow() returns false for the ones to drop and counts them, Dropped() hands the
// count to the next line written. Any thread.
class RateLimit {
 public:
  explicit RateLimit(int64_t interval_ms) : interval_ms_(interval_ms) {}
  bool Allow() {
    const int64_t now = absl::ToUnixMillis(absl::Now());
    int64_t next = next_ms_.load();
    if (now < next || !next_ms_.compare_exchange_strong(next, now + interval_ms_)) {
      dropped_.fetch_add(1);
      return false;
    }
    return true;
  }
  uint64_t Dropped() { return dropped_.exchange(0); }

 private:
  const int64_t interval_ms_;
  std::atomic<int64_t> next_ms_{0};
  std::atomic<uint64_t> dropped_{0};
};

// ProtobufLog: protobuf's own log lines (it logs one ERROR per request holding invalid
// UTF-8, which a client can send at will) at most one per 10 seconds, with a count of
// the ones dropped in between.
void ProtobufLog(google::protobuf::LogLevel level, const char* filename, int line,
                 const std::string& message) {
  static RateLimit limit(10000);
  if (!limit.Allow()) return;
  log::Write(level >= google::protobuf::LOGLEVEL_ERROR ? log::Level::kError : log::Level::kWarning,
             "protobuf", {{"message", message}, {"dropped_since_last", limit.Dropped()}});
}

// GrpcLog: gRPC's own log lines (gpr_log) as records of ours, so --log_format=json keeps
// every line JSON; at most one per second.
void GrpcLog(gpr_log_func_args* args) {
  static RateLimit limit(1000);
  if (!limit.Allow()) return;
  log::Write(args->severity == GPR_LOG_SEVERITY_ERROR ? log::Level::kError : log::Level::kInfo,
             "grpc", {{"message", std::string_view(args->message)},
                      {"file", std::string_view(args->file)},
                      {"line", args->line},
                      {"dropped_since_last", limit.Dropped()}});
}

// Fail: the error that stops the server before it serves (exit status 2).
int Fail(const std::string& message) {
  log::Error(message);
  return 2;
}


// SIGHUP's default action ends the process, and a reload can be sent while the server
// still starts: block it before anything else runs (every thread inherits the mask); it
// stays pending until the reload thread, started once ready, takes it. From the
// executable's .preinit_array, which the dynamic loader runs before the libraries'
// initializers (gRPC's, protobuf's, RocksDB's: about 20 ms of the start), not from main.
void BlockSighup(int, char**, char**) {
  sigset_t hup;
  sigemptyset(&hup);
  sigaddset(&hup, SIGHUP);
  sigprocmask(SIG_BLOCK, &hup, nullptr);  // one thread yet
}
[[gnu::section(".preinit_array"), gnu::used]] void (*block_sighup_early)(int, char**, char**) =
    &BlockSighup;

}  // namespace

int main(int argc, char** argv) {
  BlockSighup(0, nullptr, nullptr);  // idempotent; in case a toolchain drops .preinit_array
  // Buffers of 256 KiB and more (request and snapshot pieces, write batches, RocksDB
  // memtable blocks) come from mmap and go back to the system when freed. glibc's default
  // raises this threshold as large blocks are freed and then serves them from its heaps,
  // where they stay resident: streaming a 768 MiB snapshot in grew the process by about
  // 160 MB that way, against about 50 MB with a fixed threshold.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  google::protobuf::SetLogHandler(&ProtobufLog);
  gpr_set_log_function(&GrpcLog);
  absl::SetProgramUsageMessage(
      "Online-learning recommendation server. Every flag NAME may also come from the "
      "environment as STREAMREC_<NAME> (the command line and --flagfile win). See README.md.");
  streamrec::server::UseServerFlagsUsage();
  // The log format before the environment is read, so its errors are in that format.
  streamrec::server::UseLogFormatOfArgs(argc, argv);
  if (absl::Status env = streamrec::server::ApplyFlagEnvironment(); !env.ok()) {
    return Fail(std::string(env.message()));
  }
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  {
    log::Format format;
    if (!log::ParseFormat(absl::GetFlag(FLAGS_log_format), &format)) {
      return Fail("--log_format must be text or json, got \"" + absl::GetFlag(FLAGS_log_format) +
                  "\"");
    }
    log::SetFormat(format);
  }
  if (positional.size() > 1) return Fail(absl::StrCat("unexpected argument ", positional[1]));

  namespace srv = streamrec::server;
  srv::ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.health_listen = absl::GetFlag(FLAGS_health_listen);
  options.metrics_listen = srv::metrics::MetricsListenFlag();
  options.admin_listen = srv::security::AdminListenFlag();
  for (const auto& [flag, value] : {std::pair<const char*, const std::string&>{"listen", options.listen},
                                    {"admin_listen", options.admin_listen},
                                    {"health_listen", options.health_listen},
                                    {"metrics_listen", options.metrics_listen}}) {
    const bool empty_allowed = std::string_view(flag) != "listen";  // empty: that listener is off
    if (absl::Status s = srv::CheckListenFlag(flag, value, empty_allowed); !s.ok()) {
      return Fail(std::string(s.message()));
    }
  }
  if (absl::Status s = srv::security::ApplySecurityFlags(options); !s.ok()) {
    return Fail(std::string(s.message()));
  }
  options.bench_service = absl::GetFlag(FLAGS_bench_service);
  const std::string config_path = absl::GetFlag(FLAGS_model_config);
  if (!config_path.empty()) {
    absl::StatusOr<streamrec::model::ModelConfig> config = srv::LoadModelConfig(config_path);
    if (!config.ok()) return Fail(std::string(config.status().message()));
    options.core.model = *config;
  }
  options.core.model_from_data_dir = config_path.empty();
  struct {
    const char* name;
    int64_t value;
  } positive[] = {
      {"queue_capacity", absl::GetFlag(FLAGS_queue_capacity)},
      {"max_candidates", absl::GetFlag(FLAGS_max_candidates)},
      {"max_events_per_request", absl::GetFlag(FLAGS_max_events_per_request)},
      {"max_features_per_example", absl::GetFlag(FLAGS_max_features_per_example)},
      {"max_message_bytes", absl::GetFlag(FLAGS_max_message_bytes)},
      {"publish_interval_ms", absl::GetFlag(FLAGS_publish_interval_ms)},
      {"publish_every_events", absl::GetFlag(FLAGS_publish_every_events)},
      {"metrics_window", absl::GetFlag(FLAGS_metrics_window)},
      {"snapshots_retained", absl::GetFlag(FLAGS_snapshots_retained)},
      {"queue_max_bytes", absl::GetFlag(FLAGS_queue_max_bytes)},
      {"max_vector_fields", absl::GetFlag(FLAGS_max_vector_fields)},
      {"max_admin_streams", absl::GetFlag(FLAGS_max_admin_streams)},
      {"storage_retry_ms", absl::GetFlag(FLAGS_storage_retry_ms)},
      {"grpc_memory_bytes", absl::GetFlag(FLAGS_grpc_memory_bytes)},
      {"max_concurrent_streams", absl::GetFlag(FLAGS_max_concurrent_streams)},
  };
  for (const auto& f : positive) {
    if (f.value <= 0) return Fail(absl::StrCat("--", f.name, " must be > 0, got ", f.value));
  }
  if (absl::GetFlag(FLAGS_max_message_bytes) > (int64_t{1} << 30)) {
    return Fail("--max_message_bytes must be at most 1 GiB");
  }
  // A request's converted events take up to about 8 times its wire size (16-byte hashed
  // features, per-event bookkeeping): a budget below that would refuse valid requests.
  if (absl::GetFlag(FLAGS_queue_max_bytes) / 8 < absl::GetFlag(FLAGS_max_message_bytes)) {
    return Fail(absl::StrCat("--queue_max_bytes must be at least 8 x --max_message_bytes (",
                             8 * absl::GetFlag(FLAGS_max_message_bytes), "), got ",
                             absl::GetFlag(FLAGS_queue_max_bytes)));
  }
  if (absl::GetFlag(FLAGS_shutdown_grace_ms) < 0 ||
      absl::GetFlag(FLAGS_shutdown_grace_ms) > 3600000) {
    return Fail(absl::StrCat("--shutdown_grace_ms must be in [0, 3600000], got ",
                             absl::GetFlag(FLAGS_shutdown_grace_ms)));
  }
  if (absl::GetFlag(FLAGS_grpc_memory_bytes) < absl::GetFlag(FLAGS_max_message_bytes)) {
    return Fail(absl::StrCat("--grpc_memory_bytes must be at least --max_message_bytes (",
                             absl::GetFlag(FLAGS_max_message_bytes), "), got ",
                             absl::GetFlag(FLAGS_grpc_memory_bytes)));
  }
  options.grpc_memory_bytes = absl::GetFlag(FLAGS_grpc_memory_bytes);
  options.core.limits.max_concurrent_streams = absl::GetFlag(FLAGS_max_concurrent_streams);
  options.core.queue_capacity = absl::GetFlag(FLAGS_queue_capacity);
  options.core.queue_max_bytes = absl::GetFlag(FLAGS_queue_max_bytes);
  options.core.max_vector_fields = absl::GetFlag(FLAGS_max_vector_fields);
  options.core.max_admin_streams =
      static_cast<int>(std::min<int64_t>(absl::GetFlag(FLAGS_max_admin_streams), 1000));
  options.core.storage.recovery_interval = std::chrono::milliseconds(
      std::min<int64_t>(absl::GetFlag(FLAGS_storage_retry_ms), 3600000));
  options.core.storage.accept_data_loss = absl::GetFlag(FLAGS_accept_data_loss);
  options.core.limits.max_candidates = absl::GetFlag(FLAGS_max_candidates);
  options.core.limits.max_events_per_request = absl::GetFlag(FLAGS_max_events_per_request);
  options.core.limits.max_features_per_example = absl::GetFlag(FLAGS_max_features_per_example);
  options.core.limits.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  options.core.updater.publish_interval_ms =
      static_cast<int>(std::min<int64_t>(absl::GetFlag(FLAGS_publish_interval_ms), 3600000));
  options.core.updater.publish_every_events = absl::GetFlag(FLAGS_publish_every_events);
  options.core.updater.metrics_window =
      static_cast<size_t>(std::min<int64_t>(absl::GetFlag(FLAGS_metrics_window), 10000000));

  if (absl::GetFlag(FLAGS_persist_interval_s) < 0 || absl::GetFlag(FLAGS_dedup_window) < 0) {
    return Fail("--persist_interval_s and --dedup_window must be >= 0");
  }
  if (const int64_t flush = absl::GetFlag(FLAGS_flush_partial_batch_ms);
      flush < 0 || flush > 86400000) {
    return Fail("--flush_partial_batch_ms must be between 0 and 86400000 (a day), got " +
                std::to_string(flush));
  }
  options.core.updater.flush_partial_batch_ms = absl::GetFlag(FLAGS_flush_partial_batch_ms);
  const std::string durability = absl::GetFlag(FLAGS_durability);
  if (durability == "none") {
    options.core.storage.durability = streamrec::storage::Durability::kNone;
  } else if (durability == "async") {
    options.core.storage.durability = streamrec::storage::Durability::kAsync;
  } else if (durability == "sync") {
    options.core.storage.durability = streamrec::storage::Durability::kSync;
  } else {
    return Fail("--durability must be none, async or sync, got " + durability);
  }
  const int64_t log_record_format = absl::GetFlag(FLAGS_log_record_format);
  if (log_record_format != 3 && log_record_format != 5) {
    return Fail("--log_record_format must be 5 or 3, got " + std::to_string(log_record_format));
  }
  options.core.storage.log_record_format = static_cast<int>(log_record_format);
  options.core.updater.persist_interval_ms =
      std::min<int64_t>(absl::GetFlag(FLAGS_persist_interval_s), 86400) * 1000;
  options.core.storage.snapshots_retained = absl::GetFlag(FLAGS_snapshots_retained);
  options.core.storage.start_fresh = absl::GetFlag(FLAGS_start_fresh);
  options.core.dedup_window = absl::GetFlag(FLAGS_dedup_window);
  options.core.join.log_by_default = absl::GetFlag(FLAGS_log_impressions);
  const absl::Duration window = absl::GetFlag(FLAGS_join_window);
  if (window < absl::Seconds(1) || window > absl::Hours(24 * 30)) {
    return Fail("--join_window must be between 1s and 720h (30 days), got " +
                absl::FormatDuration(window));
  }
  options.core.join.window = absl::ToChronoMilliseconds(window);
  if (const std::string r = absl::GetFlag(FLAGS_default_reward); r == "none") {
    options.core.join.defaults = false;
  } else {
    double label = 0;
    if (!absl::SimpleAtod(r, &label) || !(label >= 0 && label <= 1)) {
      return Fail("--default_reward must be a label in [0, 1] or none, got " + r);
    }
    options.core.join.default_label = static_cast<float>(label);
  }
  if (const double w = absl::GetFlag(FLAGS_default_reward_weight); !(w >= 0 && w <= 1e6)) {
    return Fail("--default_reward_weight must be in [0, 1e6], got " + std::to_string(w));
  }
  options.core.join.default_weight = static_cast<float>(absl::GetFlag(FLAGS_default_reward_weight));
  if (const int64_t k = absl::GetFlag(FLAGS_default_reward_top_k); k < 0 || k > 1000000) {
    return Fail("--default_reward_top_k must be between 0 and 1000000, got " + std::to_string(k));
  }
  options.core.join.default_top_k =
      static_cast<uint32_t>(absl::GetFlag(FLAGS_default_reward_top_k));
  if (const int64_t kill_at = absl::GetFlag(FLAGS_testing_kill_during_persist); kill_at > 0) {
    auto count = std::make_shared<int64_t>(0);
    options.core.storage.testing_before_manifest = [count, kill_at] {
      if (++*count == kill_at) {
        log::Warning("--testing_kill_during_persist: SIGKILL");
        raise(SIGKILL);
      }
    };
  }

  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  if (data_dir.empty()) return Fail("--data_dir must not be empty");
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Fail(absl::StrCat("cannot create --data_dir ", data_dir, ": ", ec.message()));
  options.core.storage.data_dir = data_dir;

  // Block the stop signals in every thread; one thread waits for them from the start,
  // so a stop during recovery (which can take long) is prompt.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigset_t blocked = stop_signals;
  sigaddset(&blocked, SIGHUP);  // taken by the ReloadOnSignal thread once ready
  pthread_sigmask(SIG_BLOCK, &blocked, nullptr);
  static std::atomic<bool> stop_requested{false};
  static std::atomic<int> stop_signal{0};
  std::thread([stop_signals] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    stop_signal.store(signal);
    stop_requested.store(true);
    stop_requested.notify_all();
  }).detach();
  options.core.cancel = &stop_requested;

  absl::StatusOr<std::unique_ptr<srv::GrpcServer>> server =
      srv::GrpcServer::Start(options, [&](const srv::GrpcServer& listening) {
        const srv::ServerCore& core = listening.core();
        const int port = listening.port();
        const streamrec::model::ModelConfig& m = core.model_config();
        std::string kind = streamrec::model::ModelKindName(m.kind);
        if (m.kind == streamrec::model::ModelKind::kFm) {
          kind += " (" + std::to_string(m.fm_factors) + " factors)";
        }
        if (streamrec::model::UsesDnnConfig(m.kind)) {
          kind += " (layers " + streamrec::model::DnnLayersText(m.dnn.hidden) + ", batch " +
                  std::to_string(m.dnn.batch_size) + ", " + std::to_string(m.dnn.fields.size()) +
                  " embedded and " + std::to_string(m.dnn.dense_fields.size()) + " dense fields)";
        }
        if (!m.crosses.empty()) kind += ", " + std::to_string(m.crosses.size()) + " crosses";
        // The startup record (README "Ports, the startup record and logs"): JSON in either
        // log format, for scripts and tests to read the bound addresses from.
        std::string listeners = "{";
        for (const srv::GrpcServer::Listener& l : listening.listeners()) {
          if (listeners.size() > 1) listeners += ",";
          listeners += log::JsonString(l.name) + ":" + log::JsonString(l.address);
        }
        listeners += "}";
        log::WriteJson(log::Level::kInfo, "listening",
                       {log::Field::Json("listeners", listeners),
                        {"port", port},
                        {"version", streamrec::ProjectVersion()},
                        {"git_revision", streamrec::GitRevision()},
                        {"build_type", streamrec::BuildType()},
                        {"model", kind},
                        {"optimizer", streamrec::model::OptimizerName(m.optimizer.kind)},
                        {"hash_bits", m.hash_bits},
                        {"config_from_data_dir", core.model_config_from_data_dir()},
                        {"data_dir", data_dir},
                        {"durability", durability},
                        {"pid", static_cast<long>(getpid())}});
      });
  if (!server.ok()) {
    if (absl::IsCancelled(server.status())) {
      log::Info("stopped during startup",
                {{"signal", stop_signal.load() == SIGINT ? "SIGINT" : "SIGTERM"},
                 {"detail", std::string(server.status().message())}});
      return 0;
    }
    return Fail(std::string(server.status().message()));
  }
  log::Info("ready");
  srv::security::ReloadOnSignal reload(SIGHUP, [&] { (*server)->ReloadSecurity().IgnoreError(); });

  stop_requested.wait(false);
  log::Info("stopping", {{"signal", stop_signal.load() == SIGINT ? "SIGINT" : "SIGTERM"}});
  const srv::GrpcServer::ShutdownReport report =
      (*server)->Shutdown(std::chrono::milliseconds(absl::GetFlag(FLAGS_shutdown_grace_ms)));
  log::Info("streams ended at stop", {{"streams", report.streams_ended},
                                       {"events_acknowledged", report.events_acknowledged},
                                       {"requests_acknowledged", report.requests_acknowledged}});
  if (report.streams_cut > 0) {
    log::Warning("streams cut at stop: a request in flight when --shutdown_grace_ms ran out "
                 "was cancelled; its events may be logged without the client having seen "
                 "them acknowledged",
                 {{"streams", report.streams_cut}});
  }
  if (absl::Status s = (*server)->core().final_persist_status(); !s.ok()) {
    // Never report a clean stop when the last state did not reach the disk.
    log::Error("stopped, but the final snapshot was not written; the event log (if any) "
               "still holds the events",
               {{"error", std::string(s.message())}});
    return 1;
  }
  log::Info("stopped");
  return 0;
}
