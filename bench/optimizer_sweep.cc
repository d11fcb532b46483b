// optimizer_sweep: replays MovieLens (timestamp order, each rating scored before it is
// learned) through the logistic-regression model with each optimizer over a grid of
// learning rates, and prints progressive logloss and AUC. This is the measurement
// behind the default optimizer (README "Choosing the default optimizer").
//   build/bin/optimizer_sweep [../shared/data/movielens-latest-small]
#include <cstdio>
#include <string>

#include "bench/movielens.h"
#include "model/auc.h"
#include "model/hash.h"
#include "model/linear_model.h"
#include "model/stream_metrics.h"

using namespace streamrec;

namespace {

model::FeatureVector Features(const bench::Rating& r) {
  static const uint64_t kUser = model::HashName("user"), kItem = model::HashName("item_id"),
                        kGenre = model::HashName("genres"),
                        kUserGenre = model::HashName("user_x_genre");
  model::FeatureVector f = {{model::HashCategory(kUser, r.user), 1.0f},
                            {model::HashCategory(kItem, r.movie), 1.0f}};
  for (const std::string& g : r.genres) {
    f.push_back({model::HashCategory(kGenre, g), 1.0f});
    f.push_back({model::HashCategory(kUserGenre, r.user + "|" + g), 1.0f});
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "../shared/data/movielens-latest-small";
  std::vector<bench::Rating> ratings = bench::LoadMovieLens(dir);
  if (ratings.empty()) {
    std::fprintf(stderr, "no MovieLens data under %s\n", dir.c_str());
    return 1;
  }
  std::vector<model::FeatureVector> features;
  for (const auto& r : ratings) features.push_back(Features(r));
  std::printf("%zu ratings\n%-8s %8s %6s %6s %8s %7s\n", ratings.size(), "optimizer", "lr",
              "l1", "l2", "logloss", "AUC");
  struct Setting {
    model::OptimizerKind kind;
    double lr, l1, l2;
  };
  std::vector<Setting> grid;
  for (double lr : {0.01, 0.03, 0.1, 0.3}) grid.push_back({model::OptimizerKind::kSgd, lr, 0, 0});
  for (double lr : {0.03, 0.1, 0.2, 0.3, 0.5, 1.0}) {
    grid.push_back({model::OptimizerKind::kAdagrad, lr, 0, 0});
  }
  for (double lr : {0.001, 0.003, 0.01, 0.03, 0.1}) grid.push_back({model::OptimizerKind::kAdam, lr, 0, 0});
  for (double lr : {0.03, 0.1, 0.2, 0.3, 0.5, 1.0}) {
    for (double l2 : {0.0, 0.1, 1.0}) grid.push_back({model::OptimizerKind::kFtrl, lr, 0, l2});
  }
  for (double l1 : {0.1, 1.0}) grid.push_back({model::OptimizerKind::kFtrl, 0.3, l1, 0.1});
  for (const Setting& s : grid) {
    model::ModelConfig c;
    c.hash_bits = 20;
    c.optimizer = model::DefaultOptimizerConfig(s.kind);
    c.optimizer.learning_rate = s.lr;
    c.optimizer.l1 = s.l1;
    c.optimizer.l2 = s.l2;
    c.optimizer.normalized = false;  // the sweep behind the earlier, unnormalized default
    model::LinearModel m(c);
    model::MetricSums metrics;
    std::vector<model::ScoredLabel> points;
    for (size_t i = 0; i < ratings.size(); ++i) {
      const model::TrainResult r =
          m.Train({features[i], static_cast<float>(ratings[i].label), 1.0f, 0});
      metrics.Add(r.prediction, ratings[i].label, 1.0);
      points.push_back({r.prediction, ratings[i].label});
    }
    std::printf("%-8s %8.3f %6.1f %6.1f %8.4f %7.4f\n", model::OptimizerName(s.kind).c_str(),
                s.lr, s.l1, s.l2, [&] { model::MetricValues v; metrics.Fill(v); return v.logloss; }(), model::ExactAuc(points));
  }
  return 0;
}
