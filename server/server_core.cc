#include "server/server_core.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/model_config_proto.h"

namespace streamrec::server {
namespace {

std::string RandomPrefix() {
  std::random_device rd;
  const uint64_t hi = (uint64_t{rd()} << 32) | rd();
  return absl::StrFormat("%016x", hi);
}

void FillMetrics(const model::MetricValues& m, v1::ProgressiveMetrics& p) {
  p.set_events(m.events);
  p.set_weight_sum(m.weight_sum);
  p.set_logloss(m.logloss);
  p.set_accuracy(m.accuracy);
  p.set_mean_prediction(m.mean_prediction);
  p.set_mean_label(m.mean_label);
  p.set_auc(m.auc);
  p.set_normalized_entropy(m.normalized_entropy);
  p.set_calibration(m.calibration);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServerCore>> ServerCore::Create(const CoreOptions& options) {
  if (options.queue_capacity == 0) {
    return absl::InvalidArgumentError("queue_capacity must be > 0");
  }
  if (options.limits.max_events_per_request > options.queue_capacity) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_events_per_request (", options.limits.max_events_per_request,
        ") exceeds queue_capacity (", options.queue_capacity, "): such a request never fits"));
  }
  if (options.limits.max_candidates == 0 || options.limits.max_events_per_request == 0 ||
      options.limits.max_features_per_example == 0) {
    return absl::InvalidArgumentError("request limits must be > 0");
  }
  if (options.updater.publish_interval_ms <= 0 || options.updater.publish_every_events == 0) {
    return absl::InvalidArgumentError("publish_interval_ms and publish_every_events must be > 0");
  }
  absl::StatusOr<std::unique_ptr<model::Model>> model = model::CreateModel(options.model);
  if (!model.ok()) return model.status();
  return std::unique_ptr<ServerCore>(new ServerCore(options, *std::move(model)));
}

ServerCore::ServerCore(const CoreOptions& options, std::unique_ptr<model::Model> model)
    : options_(options),
      converter_(options.limits, &dims_),
      queue_(options.queue_capacity),
      updater_(std::make_unique<core::Updater>(std::move(model), &queue_, &slot_,
                                               options.updater)),
      prediction_prefix_(RandomPrefix()) {
  updater_->Start();
}

ServerCore::~ServerCore() { Stop(); }

void ServerCore::Stop() { updater_->Stop(); }

std::string ServerCore::NextPredictionId() {
  return absl::StrFormat("%s-%x", prediction_prefix_,
                         prediction_counter_.fetch_add(1, std::memory_order_relaxed));
}

absl::Status ServerCore::Predict(const v1::PredictRequest& request,
                                 v1::PredictResponse& response) {
  thread_local PredictInput input;
  if (absl::Status s = converter_.ConvertPredict(request, input); !s.ok()) return s;
  const std::shared_ptr<const model::Snapshot> snapshot = slot_.Get();
  const model::ContextScore context = snapshot->ScoreContext(input.context);
  const size_t n = input.items.size();
  thread_local std::vector<double> scores;
  thread_local std::vector<uint32_t> order;
  scores.resize(n);
  order.resize(n);
  for (size_t i = 0; i < n; ++i) scores[i] = snapshot->ScoreItem(context, input.items[i]);
  std::iota(order.begin(), order.end(), 0);
  const size_t k = request.top_k() == 0 ? n : std::min<size_t>(request.top_k(), n);
  auto better = [](uint32_t a, uint32_t b) {
    return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
  };
  std::partial_sort(order.begin(), order.begin() + k, order.end(), better);
  response.mutable_items()->Reserve(static_cast<int>(k));
  for (size_t r = 0; r < k; ++r) {
    v1::ScoredItem* item = response.add_items();
    item->set_id(request.candidates(order[r]).id());
    item->set_score(scores[order[r]]);
    item->set_index(order[r]);
  }
  response.set_model_version(snapshot->version());
  response.set_prediction_id(NextPredictionId());
  predict_requests_.fetch_add(1, std::memory_order_relaxed);
  candidates_scored_.fetch_add(n, std::memory_order_relaxed);
  return absl::OkStatus();
}

void ServerCore::CountRejected(const absl::Status& status, size_t events) {
  if (status.code() == absl::StatusCode::kResourceExhausted) {
    rejected_queue_full_.fetch_add(events, std::memory_order_relaxed);
  } else {
    rejected_invalid_.fetch_add(events, std::memory_order_relaxed);
  }
}

absl::StatusOr<std::unique_ptr<core::EventBatch>> ServerCore::PrepareObserve(
    const v1::ObserveRequest& request) {
  const size_t n = request.events_size();
  events_received_.fetch_add(n, std::memory_order_relaxed);
  absl::StatusOr<std::unique_ptr<core::EventBatch>> batch = converter_.ConvertObserve(request);
  if (!batch.ok()) CountRejected(batch.status(), n);
  return batch;
}

bool ServerCore::TryEnqueue(std::unique_ptr<core::EventBatch>& batch) {
  const size_t n = batch->examples.size();
  if (!queue_.TryPush(batch)) return false;
  events_accepted_.fetch_add(n, std::memory_order_relaxed);
  return true;
}

absl::Status ServerCore::Observe(const v1::ObserveRequest& request,
                                 v1::ObserveResponse& response) {
  absl::StatusOr<std::unique_ptr<core::EventBatch>> batch = PrepareObserve(request);
  if (!batch.ok()) return batch.status();
  const size_t n = (*batch)->examples.size();
  if (!TryEnqueue(*batch)) {
    absl::Status full = absl::ResourceExhaustedError(absl::StrCat(
        "event queue full (", queue_.depth(), " of ", queue_.capacity(),
        " events waiting); retry with backoff, or use ObserveStream for flow control"));
    CountRejected(full, n);
    return full;
  }
  response.set_accepted(n);
  return absl::OkStatus();
}

void ServerCore::GetModelInfo(v1::ModelInfo& info) const {
  const std::shared_ptr<const model::Snapshot> snapshot = slot_.Get();
  *info.mutable_config() = ModelConfigToProto(options_.model);
  info.set_model_version(snapshot->version());
  info.set_events_applied(snapshot->events_applied());
  info.set_parameter_count(snapshot->parameter_count());
  info.set_parameter_bytes(snapshot->parameter_count() * sizeof(float));
  info.set_nonzero_parameters(updater_->Counters().nonzero_parameters);
}

void ServerCore::GetStats(v1::Stats& stats) const {
  const core::UpdaterStats u = updater_->Stats();
  stats.set_events_received(events_received_.load(std::memory_order_relaxed));
  stats.set_events_accepted(events_accepted_.load(std::memory_order_relaxed));
  stats.set_events_applied(u.events_applied);
  (*stats.mutable_events_rejected())["invalid_argument"] = rejected_invalid_.load();
  (*stats.mutable_events_rejected())["queue_full"] = rejected_queue_full_.load();
  stats.set_queue_depth(queue_.depth());
  stats.set_queue_capacity(queue_.capacity());
  stats.set_publications(u.publications);
  stats.set_model_version(u.model_version);
  stats.set_updates_skipped_nonfinite(u.updates_skipped_nonfinite);
  stats.set_predict_requests(predict_requests_.load(std::memory_order_relaxed));
  stats.set_candidates_scored(candidates_scored_.load(std::memory_order_relaxed));
  FillMetrics(u.overall, *stats.mutable_progressive());
  FillMetrics(u.window, *stats.mutable_progressive_window());
  stats.set_metrics_window(options_.updater.metrics_window);
  stats.set_publish_micros_mean(u.publish_micros_mean);
  stats.set_last_publish_chunks(u.last_publish_chunks);
  stats.set_ack_to_publish_p50_ms(u.ack_to_publish_p50_ms);
  stats.set_ack_to_publish_p99_ms(u.ack_to_publish_p99_ms);
}

}  // namespace streamrec::server
