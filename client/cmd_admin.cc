// `streamrec health`, `streamrec info`, `streamrec stats [--watch] [--count N]`.
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <thread>

#include "client/commands.h"
#include "client/exit_codes.h"
#include "client/metrics_text.h"

namespace streamrec::client {
namespace {

const char* OptimizerName(v1::OptimizerConfig::Kind k) {
  switch (k) {
    case v1::OptimizerConfig::SGD: return "SGD";
    case v1::OptimizerConfig::ADAGRAD: return "Adagrad";
    case v1::OptimizerConfig::ADAM: return "Adam";
    case v1::OptimizerConfig::FTRL: return "FTRL-Proximal";
    default: return "default";
  }
}

void PrintMetrics(const char* title, const v1::ProgressiveMetrics& m) {
  std::printf("%-16s events %-10lu %s\n", title, static_cast<unsigned long>(m.events()),
              MetricsText(m).c_str());
}

void PrintStats(const v1::Stats& s) {
  std::printf("events           received %lu  accepted %lu  applied %lu\n",
              static_cast<unsigned long>(s.events_received()),
              static_cast<unsigned long>(s.events_accepted()),
              static_cast<unsigned long>(s.events_applied()));
  std::printf("rejected        ");
  const std::map<std::string, uint64_t> rejected(s.events_rejected().begin(),
                                                 s.events_rejected().end());  // sorted
  for (const auto& [reason, n] : rejected) {
    std::printf(" %s %lu", reason.c_str(), static_cast<unsigned long>(n));
  }
  std::printf("\nrequests         malformed %lu  streams open %lu  streams refused %lu",
              static_cast<unsigned long>(s.requests_malformed()),
              static_cast<unsigned long>(s.streams_open()),
              static_cast<unsigned long>(s.streams_rejected()));
  std::printf("\nqueue            %lu / %lu events  %lu / %lu bytes\n",
              static_cast<unsigned long>(s.queue_depth()),
              static_cast<unsigned long>(s.queue_capacity()),
              static_cast<unsigned long>(s.queue_bytes()),
              static_cast<unsigned long>(s.queue_max_bytes()));
  std::printf("storage          %s  recoveries %lu  WAL syncs %lu  vector fields %lu%s%s\n",
              s.storage_writable() ? "writable" : "NOT WRITABLE",
              static_cast<unsigned long>(s.storage_recoveries()),
              static_cast<unsigned long>(s.wal_syncs()),
              static_cast<unsigned long>(s.vector_fields()),
              s.storage_error().empty() ? "" : "  ", s.storage_error().c_str());
  std::printf("model            version %lu  publications %lu  mean publish %.0f us  "
              "non-finite updates skipped %lu\n",
              static_cast<unsigned long>(s.model_version()),
              static_cast<unsigned long>(s.publications()), s.publish_micros_mean(),
              static_cast<unsigned long>(s.updates_skipped_nonfinite()));
  std::printf("freshness        ack to publish p50 %.1f ms  p99 %.1f ms\n",
              s.ack_to_publish_p50_ms(), s.ack_to_publish_p99_ms());
  std::printf("persistence      last_seq %lu  persisted version %lu  snapshots %lu (failed %lu, "
              "last took %.1f ms)  log %lu bytes  duplicates dropped %lu\n",
              static_cast<unsigned long>(s.last_seq()),
              static_cast<unsigned long>(s.persisted_version()),
              static_cast<unsigned long>(s.snapshots_persisted()),
              static_cast<unsigned long>(s.snapshot_failures()), s.last_persist_ms(),
              static_cast<unsigned long>(s.log_bytes()),
              static_cast<unsigned long>(s.duplicates_dropped()));
  std::printf("predict          requests %lu  candidates %lu\n",
              static_cast<unsigned long>(s.predict_requests()),
              static_cast<unsigned long>(s.candidates_scored()));
  PrintMetrics("overall", s.progressive());
  PrintMetrics(("last " + std::to_string(s.metrics_window())).c_str(), s.progressive_window());
}

}  // namespace

int RunHealth(const Args& args, Connection& conn, bool json) {
  bool all_serving = true;
  std::string out = "{";
  for (const std::string service : {"", "streamrec.v1.Recommender", "streamrec.v1.Ingest"}) {
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    grpc::health::v1::HealthCheckResponse resp;
    grpc::Status s = conn.health().Check(conn.Context().get(), req, &resp);
    if (!s.ok()) return conn.Fail("health", s);
    const std::string status =
        grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status());
    all_serving &= resp.status() == grpc::health::v1::HealthCheckResponse::SERVING;
    const std::string name = service.empty() ? "server" : service;
    if (json) {
      out += (out.size() > 1 ? "," : "") + ("\"" + name + "\":\"" + status + "\"");
    } else {
      std::printf("%-26s %s\n", name.c_str(), status.c_str());
    }
  }
  if (json) std::printf("%s}\n", out.c_str());
  return all_serving ? kExitOk : kExitServer;
}

int RunInfo(const Args& args, Connection& conn, bool json) {
  v1::ModelInfo info;
  grpc::Status s = conn.admin().GetModelInfo(conn.Context().get(), v1::GetModelInfoRequest(), &info);
  if (!s.ok()) return conn.Fail("info", s);
  if (json) {
    std::printf("%s\n", ToJson(info).c_str());
    return kExitOk;
  }
  const v1::OptimizerConfig& o = info.config().optimizer();
  if (info.config().kind() == v1::ModelConfig::FM) {
    std::printf("model          factorization machine, 2^%u hashed rows, %u factors\n",
                info.config().hash_bits(), info.config().fm_factors());
  } else if (info.config().kind() == v1::ModelConfig::DNN ||
             info.config().kind() == v1::ModelConfig::DEEPFM) {
    const v1::DnnConfig& d = info.config().dnn();
    std::string layers;
    for (uint32_t h : d.hidden()) layers += std::to_string(h) + " ReLU -> ";
    if (info.config().kind() == v1::ModelConfig::DEEPFM) {
      std::printf("model          DeepFM, 2^%u hashed rows x (%u embedding floats + 1 linear "
                  "weight), linear + FM over fields + input -> %s1, sigmoid\n",
                  info.config().hash_bits(), d.embedding_dim(), layers.c_str());
    } else {
      std::printf("model          deep neural network, 2^%u hashed rows x %u embedding floats, "
                  "input -> %s1 sigmoid\n",
                  info.config().hash_bits(), d.embedding_dim(), layers.c_str());
    }
    std::printf("training       batch %u  dropout %g  clip_norm %g  pooling %s  other slot %s\n",
                d.batch_size(), d.dropout(), d.clip_norm(),
                d.pooling() == v1::DnnConfig::SUM ? "sum" : "mean",
                d.other_slot() ? "on" : "off");
    for (const std::string& f : d.fields()) std::printf("embedded field %s\n", f.c_str());
    for (const std::string& f : d.dense_fields()) std::printf("dense field    %s\n", f.c_str());
  } else {
    std::printf("model          logistic regression, 2^%u hashed rows\n",
                info.config().hash_bits());
  }
  std::printf("optimizer      %s%s  learning_rate %g  l1 %g  l2 %g\n", OptimizerName(o.kind()),
              o.normalized() ? " (normalized)" : "", o.learning_rate(), o.l1(), o.l2());
  for (const std::string& cross : info.config().crosses()) {
    std::printf("cross          %s\n", cross.c_str());
  }
  std::printf("model_version  %lu\n", static_cast<unsigned long>(info.model_version()));
  std::printf("events_applied %lu\n", static_cast<unsigned long>(info.events_applied()));
  std::printf("parameters     %lu (%lu bytes, %lu non-zero)\n",
              static_cast<unsigned long>(info.parameter_count()),
              static_cast<unsigned long>(info.parameter_bytes()),
              static_cast<unsigned long>(info.nonzero_parameters()));
  return kExitOk;
}

int RunStats(const Args& args, Connection& conn, bool json) {
  const bool watch = args.Has("watch");
  long count = watch ? -1 : 1;
  if (auto c = args.Get("count")) count = std::atol(c->c_str());
  for (long i = 0; count < 0 || i < count; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::seconds(1));
    v1::Stats stats;
    grpc::Status s = conn.admin().GetStats(conn.Context().get(), v1::GetStatsRequest(), &stats);
    if (!s.ok()) return conn.Fail("stats", s);
    if (json) {
      std::printf("%s\n", ToJson(stats).c_str());
    } else {
      if (watch) std::printf("\n");
      PrintStats(stats);
    }
    std::fflush(stdout);
  }
  return kExitOk;
}

}  // namespace streamrec::client
