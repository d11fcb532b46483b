// streamrec-server: the online-learning recommendation server. Flags are documented in
// the README (`streamrec-server --help` lists them). SIGINT/SIGTERM stop it cleanly:
// readiness goes NOT_SERVING, calls in flight finish, accepted events are trained.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "server/grpc_server.h"
#include "server/model_config_proto.h"

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
ABSL_FLAG(int64_t, persist_interval_s, 10, "Persist a snapshot this often (0: only on stop).");
ABSL_FLAG(int64_t, snapshots_retained, 5, "Persisted snapshots kept.");
ABSL_FLAG(int64_t, dedup_window, 0,
          "Drop events whose event_id was among the last N logged (0: off).");
ABSL_FLAG(bool, start_fresh, false,
          "Delete the data in --data_dir if it was written by an incompatible model.");
ABSL_FLAG(int64_t, testing_kill_during_persist, 0,
          "Tests only: SIGKILL the process between the chunks and the manifest of the Nth "
          "snapshot persisted.");
ABSL_FLAG(int64_t, shutdown_grace_ms, 5000, "Time calls in flight get to finish on stop.");
ABSL_FLAG(int64_t, grpc_memory_bytes, int64_t{1} << 30,
          "Bound on gRPC's own memory (connections, calls, message buffers), in bytes.");
ABSL_FLAG(int64_t, max_concurrent_streams, 1000,
          "ObserveStream calls open at once; more are refused with RESOURCE_EXHAUSTED.");

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "streamrec-server: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Online-learning recommendation server. See README.md.");
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() > 1) return Fail(absl::StrCat("unexpected argument ", positional[1]));

  namespace srv = streamrec::server;
  srv::ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  const std::string config_path = absl::GetFlag(FLAGS_model_config);
  if (!config_path.empty()) {
    absl::StatusOr<streamrec::model::ModelConfig> config = srv::LoadModelConfig(config_path);
    if (!config.ok()) return Fail(std::string(config.status().message()));
    options.core.model = *config;
  }
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
      {"grpc_memory_bytes", absl::GetFlag(FLAGS_grpc_memory_bytes)},
      {"max_concurrent_streams", absl::GetFlag(FLAGS_max_concurrent_streams)},
  };
  for (const auto& f : positive) {
    if (f.value <= 0) return Fail(absl::StrCat("--", f.name, " must be > 0, got ", f.value));
  }
  if (absl::GetFlag(FLAGS_max_message_bytes) > (int64_t{1} << 30)) {
    return Fail("--max_message_bytes must be at most 1 GiB");
  }
  if (absl::GetFlag(FLAGS_grpc_memory_bytes) < absl::GetFlag(FLAGS_max_message_bytes)) {
    return Fail(absl::StrCat("--grpc_memory_bytes must be at least --max_message_bytes (",
                             absl::GetFlag(FLAGS_max_message_bytes), "), got ",
                             absl::GetFlag(FLAGS_grpc_memory_bytes)));
  }
  options.grpc_memory_bytes = absl::GetFlag(FLAGS_grpc_memory_bytes);
  options.core.limits.max_concurrent_streams = absl::GetFlag(FLAGS_max_concurrent_streams);
  options.core.queue_capacity = absl::GetFlag(FLAGS_queue_capacity);
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
  const std::string durability = absl::GetFlag(FLAGS_durability);
  if (durability == "none") {
    options.core.storage.durability = srv::Durability::kNone;
  } else if (durability == "async") {
    options.core.storage.durability = srv::Durability::kAsync;
  } else if (durability == "sync") {
    options.core.storage.durability = srv::Durability::kSync;
  } else {
    return Fail("--durability must be none, async or sync, got " + durability);
  }
  options.core.updater.persist_interval_ms =
      std::min<int64_t>(absl::GetFlag(FLAGS_persist_interval_s), 86400) * 1000;
  options.core.storage.snapshots_retained = absl::GetFlag(FLAGS_snapshots_retained);
  options.core.storage.start_fresh = absl::GetFlag(FLAGS_start_fresh);
  options.core.dedup_window = absl::GetFlag(FLAGS_dedup_window);
  if (const int64_t kill_at = absl::GetFlag(FLAGS_testing_kill_during_persist); kill_at > 0) {
    auto count = std::make_shared<int64_t>(0);
    options.core.storage.testing_before_manifest = [count, kill_at] {
      if (++*count == kill_at) {
        std::fprintf(stderr, "streamrec-server: --testing_kill_during_persist: SIGKILL\n");
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

  // Block the stop signals in every thread; the main thread waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  absl::StatusOr<std::unique_ptr<srv::GrpcServer>> server =
      srv::GrpcServer::Start(options, [&](int port) {
        std::fprintf(stderr, "streamrec-server: listening on port %d (model: logistic "
                     "regression, %s, 2^%u rows; data in %s, durability %s)\n", port,
                     streamrec::model::OptimizerName(options.core.model.optimizer.kind).c_str(),
                     options.core.model.hash_bits, data_dir.c_str(), durability.c_str());
      });
  if (!server.ok()) return Fail(std::string(server.status().message()));
  std::fprintf(stderr, "streamrec-server: ready\n");

  int signal = 0;
  sigwait(&stop_signals, &signal);
  std::fprintf(stderr, "streamrec-server: %s received, stopping\n",
               signal == SIGINT ? "SIGINT" : "SIGTERM");
  (*server)->Shutdown(std::chrono::milliseconds(absl::GetFlag(FLAGS_shutdown_grace_ms)));
  std::fprintf(stderr, "streamrec-server: stopped\n");
  return 0;
}
