#include "bench/quality_streams.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "bench/movielens.h"
#include "client/criteo_events.h"
#include "client/criteo_generator.h"
#include "model/auc.h"
#include "model/loss.h"
#include "model/model.h"
#include "server/request_converter.h"

namespace streamrec::bench {
namespace {

// Convert hashes one event exactly as Observe would.
class Converter {
 public:
  Converter() : converter_(server::Limits{}, &dims_) {}
  void Add(const v1::Event& event, std::vector<model::Example>& out) {
    request_.clear_events();
    *request_.add_events() = event;
    auto batch = converter_.ConvertObserve(request_);
    if (!batch.ok()) {
      std::fprintf(stderr, "quality_streams: %s\n", std::string(batch.status().message()).c_str());
      std::abort();
    }
    for (model::Example& e : (*batch)->examples) out.push_back(std::move(e));
  }

 private:
  server::VectorDims dims_;
  server::RequestConverter converter_;
  v1::ObserveRequest request_;
};

Stream Criteo(const std::string& name, int features, bool unscaled, size_t n) {
  Stream s{name, {}, 0};
  client::CriteoStream gen(features, 1000, 1);
  Converter conv;
  v1::Event event;
  for (size_t i = 0; i < n; ++i) {
    client::ToApiEvent(gen.Next(), unscaled, false, event);
    conv.Add(event, s.examples);
  }
  s.optimal_logloss = gen.OptimalLogLoss();
  return s;
}

}  // namespace

Progressive RunProgressive(const model::ModelConfig& config,
                           const std::vector<model::Example>& examples) {
  std::unique_ptr<model::Model> m = *model::CreateModel(config);
  double loss = 0;
  std::vector<model::ScoredLabel> points;
  points.reserve(examples.size());
  const auto start = std::chrono::steady_clock::now();
  for (const model::Example& e : examples) {
    const double p = m->Train(e).prediction;
    loss += model::LogLoss(p, e.label);
    points.push_back({p, e.label});
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {loss / examples.size(), model::ExactAuc(points), examples.size() / s};
}

double RunningRateLogLoss(const std::vector<model::Example>& examples) {
  double loss = 0, clicks = 0;
  for (size_t i = 0; i < examples.size(); ++i) {
    loss += model::LogLoss((clicks + 1) / (i + 2.0), examples[i].label);
    clicks += examples[i].label;
  }
  return examples.empty() ? 0 : loss / examples.size();
}

std::vector<Stream> QualityStreams(const std::string& movielens_dir, size_t events) {
  std::vector<Stream> streams;
  const std::vector<Rating> ratings = LoadMovieLens(movielens_dir);
  if (!ratings.empty()) {
    Stream s{"movielens", {}, 0};
    Converter conv;
    v1::Event event;
    for (size_t i = 0; i < ratings.size() && (events == 0 || i < events); ++i) {
      const Rating& r = ratings[i];
      event.Clear();
      event.set_label(r.label);
      (*event.mutable_context()->mutable_values())["user"].set_category(r.user);
      event.mutable_item()->set_id(r.movie);
      auto* genres = (*event.mutable_item()->mutable_features()->mutable_values())["genres"]
                         .mutable_categories();
      for (const std::string& g : r.genres) genres->add_values(g);
      conv.Add(event, s.examples);
    }
    streams.push_back(std::move(s));
  }
  const size_t n = events ? events : 200000;
  streams.push_back(Criteo("criteo", 40, false, n));
  streams.push_back(Criteo("criteo-raw", 40, true, n));
  streams.push_back(Criteo("criteo-5", 5, false, n));
  return streams;
}

}  // namespace streamrec::bench
