#include "server/ranker.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "model/hash.h"

namespace streamrec::server {
namespace {

std::string RandomPrefix() {
  std::random_device rd;
  const uint64_t hi = (uint64_t{rd()} << 32) | rd();
  return absl::StrFormat("%016x", hi);
}

}  // namespace

Ranker::Ranker(const RequestConverter* converter, const core::SnapshotSource* source,
               RewardJoin* join, const model::ExplorationConfig& exploration)
    : converter_(converter),
      source_(source),
      join_(join),
      exploration_(exploration),
      prediction_prefix_(RandomPrefix()) {}

std::string Ranker::NextPredictionId() {
  return absl::StrFormat("%s-%x", prediction_prefix_,
                         prediction_counter_.fetch_add(1, std::memory_order_relaxed));
}

absl::Status Ranker::Predict(const v1::PredictRequest& request, v1::PredictResponse& response) {
  ParsedPredict parsed;
  if (absl::Status s = ParseV1(request, parsed); !s.ok()) return s;
  return Predict(parsed, response);
}

absl::Status Ranker::Predict(const ParsedPredict& request,
                             v1::PredictResponse& response) {
  thread_local PredictInput input;
  thread_local std::vector<double> scores;
  thread_local std::vector<uint32_t> order;
  // A large request's buffers are not kept for the next one (on every way out).
  struct Trim {
    ~Trim() {
      size_t held = input.context.capacity() + input.items.capacity();
      for (const model::FeatureVector& f : input.items) held += f.capacity();
      if (held * sizeof(model::HashedFeature) > (size_t{1} << 20)) {
        input = PredictInput{};
        std::vector<double>().swap(scores);
        std::vector<uint32_t>().swap(order);
      }
    }
  } trim;
  if (absl::Status s = converter_->ConvertPredict(request, input); !s.ok()) return s;
  const std::shared_ptr<const model::Snapshot> snapshot = source_->Get();
  const size_t n = input.items.size();
  scores.resize(n);
  order.resize(n);
  snapshot->Score(input.context, input.items, scores);
  const size_t k = request.top_k == 0 ? n : std::min<size_t>(request.top_k, n);
  response.set_prediction_id(NextPredictionId());
  const bool explore = exploration_.kind != model::ExplorationKind::kGreedy;
  thread_local std::vector<double> propensity;
  if (explore) {
    model::Rank(exploration_, scores, k, model::HashName(response.prediction_id()), order,
                propensity);
  } else {
    std::iota(order.begin(), order.end(), 0);
    auto better = [](uint32_t a, uint32_t b) {
      return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
    };
    std::partial_sort(order.begin(), order.begin() + k, order.end(), better);
  }
  response.mutable_items()->Reserve(static_cast<int>(k));
  for (size_t r = 0; r < k; ++r) {
    v1::ScoredItem* item = response.add_items();
    const std::string_view id = request.candidates[order[r]].id;
    item->set_id(id.data(), id.size());
    item->set_score(scores[order[r]]);
    item->set_index(order[r]);
    if (explore) item->set_propensity(propensity[r]);
  }
  response.set_model_version(snapshot->version());
  if (join_ != nullptr &&
      join_->ShouldLog(request.has_log_impression, request.log_impression)) {
    storage::Impression imp;
    imp.prediction_id = response.prediction_id();
    imp.model_version = snapshot->version();
    imp.context = input.context;
    imp.candidates.resize(n);
    for (size_t i = 0; i < n; ++i) {
      imp.candidates[i].id = std::string(request.candidates[i].id);
      imp.candidates[i].score = scores[i];
      imp.candidates[i].features = input.items[i];
    }
    imp.shown.assign(order.begin(), order.begin() + k);
    if (explore) {
      imp.propensities.assign(propensity.begin(), propensity.begin() + k);
    } else {
      imp.propensities.assign(k, 1.0);
    }
    absl::Status logged = join_->Log(imp);
    if (!logged.ok() && request.has_log_impression) {
      return absl::Status(logged.code(),
                          absl::StrCat("log_impression: the impression was not logged (",
                                       logged.message(), ")"));
    }
    response.set_impression_logged(logged.ok());
  }
  requests_.fetch_add(1, std::memory_order_relaxed);
  candidates_.fetch_add(n, std::memory_order_relaxed);
  return absl::OkStatus();
}

}  // namespace streamrec::server
