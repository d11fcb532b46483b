// `streamrec health`, `streamrec info`, `streamrec stats [--watch] [--count N]`.
// info prints the configured optimizer's own fields under their config names; stats
// lists rejection reasons in kRejectReasons' order and, watching a terminal, redraws in
// place (appends when stdout is not a terminal).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <thread>

#include "client/commands.h"
#include "client/exit_codes.h"
#include "client/flag_values.h"
#include "client/metrics_text.h"

namespace streamrec::client {
namespace {

// The reasons of Stats.events_rejected in the order the README (and admin.proto) lists
// them; a reason the server adds later is printed after these.
constexpr const char* kRejectReasons[] = {"invalid_argument", "queue_full", "queue_bytes_full",
                                          "unavailable", "storage_unavailable"};

// OptimizerText: the optimizer's kind and the fields that kind uses, named as in
// model_config.proto (FTRL's alpha is learning_rate there, its beta ftrl_beta).
std::string OptimizerText(const v1::OptimizerConfig& o) {
  char buf[256];
  const char* normalized = o.normalized() ? "true" : "false";
  switch (o.kind()) {
    case v1::OptimizerConfig::SGD:
      std::snprintf(buf, sizeof buf, "SGD  learning_rate %g  l2 %g", o.learning_rate(), o.l2());
      break;
    case v1::OptimizerConfig::ADAGRAD:
      std::snprintf(buf, sizeof buf, "Adagrad  learning_rate %g  initial_accumulator %g  "
                    "epsilon %g", o.learning_rate(), o.initial_accumulator(), o.epsilon());
      break;
    case v1::OptimizerConfig::ADAM:
      std::snprintf(buf, sizeof buf, "Adam  learning_rate %g  beta1 %g  beta2 %g  epsilon %g",
                    o.learning_rate(), o.beta1(), o.beta2(), o.epsilon());
      break;
    case v1::OptimizerConfig::FTRL:
      std::snprintf(buf, sizeof buf, "FTRL-Proximal  alpha %g  beta %g  l1 %g  l2 %g  "
                    "normalized %s", o.learning_rate(), o.ftrl_beta(), o.l1(), o.l2(), normalized);
      return buf;
    default:  // the server fills the kind in; an older one may not
      std::snprintf(buf, sizeof buf, "%s  learning_rate %g",
                    v1::OptimizerConfig::Kind_Name(o.kind()).c_str(), o.learning_rate());
  }
  std::string out = buf;
  if (o.normalized()) out += "  normalized true";  // the default for FTRL only
  return out;
}

std::string Joined(const google::protobuf::RepeatedPtrField<std::string>& list) {
  std::string out;
  for (const std::string& s : list) out += (out.empty() ? "" : ", ") + s;
  return out;
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
  std::map<std::string, uint64_t> rejected(s.events_rejected().begin(),
                                           s.events_rejected().end());
  for (const char* reason : kRejectReasons) {
    auto it = rejected.find(reason);
    std::printf(" %s %lu", reason,
                static_cast<unsigned long>(it == rejected.end() ? 0 : it->second));
    if (it != rejected.end()) rejected.erase(it);
  }
  for (const auto& [reason, n] : rejected) {  // reasons this client does not know, sorted
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
  const v1::FeedbackStats& fb = s.feedback();
  const auto dropped = [&fb](const char* reason) -> unsigned long {
    auto it = fb.rewards_dropped().find(reason);
    return it == fb.rewards_dropped().end() ? 0 : it->second;
  };
  std::printf("feedback         impressions logged %lu (failed %lu, live %lu, closed %lu)  "
              "rewards joined %lu, dropped unknown %lu / not_candidate %lu / duplicate %lu  "
              "defaults %lu  join latency mean %.0f ms max %lu ms\n",
              static_cast<unsigned long>(fb.impressions_logged()),
              static_cast<unsigned long>(fb.impressions_failed()),
              static_cast<unsigned long>(fb.impressions_live()),
              static_cast<unsigned long>(fb.impressions_closed()),
              static_cast<unsigned long>(fb.rewards_joined()), dropped("unknown"),
              dropped("not_candidate"), dropped("duplicate"),
              static_cast<unsigned long>(fb.defaults_emitted()), fb.join_latency_mean_ms(),
              static_cast<unsigned long>(fb.join_latency_max_ms()));
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
  const v1::ModelConfig& c = info.config();
  switch (c.kind()) {
    case v1::ModelConfig::FM:
      std::printf("model          FM (factorization machine)  hash_bits %u  fm_factors %u\n",
                  c.hash_bits(), c.fm_factors());
      break;
    case v1::ModelConfig::DNN:
    case v1::ModelConfig::DEEPFM: {
      const v1::DnnConfig& d = c.dnn();
      std::string hidden;
      for (uint32_t h : d.hidden()) hidden += (hidden.empty() ? "" : ",") + std::to_string(h);
      std::printf("model          %s  hash_bits %u\n",
                  c.kind() == v1::ModelConfig::DEEPFM
                      ? "DEEPFM (linear + FM over field embeddings + deep network)"
                      : "DNN (embeddings and dense inputs into a deep network)",
                  c.hash_bits());
      std::printf("dnn            embedding_dim %u  hidden %s  dropout %g  batch_size %u  "
                  "clip_norm %g  pooling %s  other_slot %s%s\n",
                  d.embedding_dim(), hidden.c_str(), d.dropout(), d.batch_size(), d.clip_norm(),
                  d.pooling() == v1::DnnConfig::SUM ? "SUM" : "MEAN",
                  d.other_slot() ? "true" : "false",
                  d.kernels() == v1::DnnConfig::EIGEN     ? "  kernels EIGEN"
                  : d.kernels() == v1::DnnConfig::ORDERED ? "  kernels ORDERED"
                                                          : "");
      if (d.fields_size() > 0) std::printf("fields         %s\n", Joined(d.fields()).c_str());
      if (d.dense_fields_size() > 0) {
        std::printf("dense_fields   %s\n", Joined(d.dense_fields()).c_str());
      }
      break;
    }
    default:
      std::printf("model          LOGISTIC_REGRESSION  hash_bits %u\n", c.hash_bits());
  }
  std::printf("optimizer      %s\n", OptimizerText(c.optimizer()).c_str());
  for (const std::string& cross : c.crosses()) std::printf("cross          %s\n", cross.c_str());
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
  long long count = 0;
  if (std::string err = WholeFlag(args, "count", watch ? -1 : 1, count, 1); !err.empty()) {
    return UsageError(err);
  }
  // On a terminal a watch redraws the screen in place: clear, cursor home.
  const bool redraw = watch && !json && isatty(STDOUT_FILENO);
  for (long long i = 0; count < 0 || i < count; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::seconds(1));
    v1::Stats stats;
    grpc::Status s = conn.admin().GetStats(conn.Context().get(), v1::GetStatsRequest(), &stats);
    if (!s.ok()) return conn.Fail("stats", s);
    if (json) {
      std::printf("%s\n", ToJson(stats).c_str());
    } else {
      if (redraw) {
        std::printf("\033[H\033[2J");
      } else if (i > 0) {
        std::printf("\n");
      }
      PrintStats(stats);
    }
    std::fflush(stdout);
  }
  return kExitOk;
}

}  // namespace streamrec::client
