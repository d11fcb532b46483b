// crosses_quality: one pass over MovieLens latest-small (timestamp order, rating >= 4 is
// a click, each rating scored before it is learned) with plain fields only (user,
// item_id, genres), through logistic regression with the default optimizer, without and
// with crosses in the model config, through a factorization machine and through the
// DNN (fields user, item_id, genres embedded; 256-128 layers). Prints progressive log loss, AUC and normalized
// entropy (log loss / log loss of the running click rate (clicks + 1) / (events + 2),
// the constant predictor a model must beat; NE < 1 beats it) and events/s.
//   build/bin/crosses_quality [../shared/data/movielens-latest-small]
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/movielens.h"
#include "model/auc.h"
#include "model/hash.h"
#include "model/model.h"
#include "model/loss.h"

using namespace streamrec;

namespace {

model::HashedFeature Category(const char* field, const std::string& value) {
  const uint64_t name = model::HashName(field);
  return {model::HashCategory(name, value), 1.0f, model::FieldId(name)};
}

model::FeatureVector Features(const bench::Rating& r) {
  model::FeatureVector f = {Category("user", r.user), Category("item_id", r.movie)};
  for (const std::string& g : r.genres) f.push_back(Category("genres", g));
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "../shared/data/movielens-latest-small";
  const std::vector<bench::Rating> ratings = bench::LoadMovieLens(dir);
  if (ratings.empty()) {
    std::fprintf(stderr, "no MovieLens data under %s\n", dir.c_str());
    return 1;
  }
  std::vector<model::FeatureVector> features;
  for (const auto& r : ratings) features.push_back(Features(r));
  // The constant predictor: the running click rate.
  double base_loss = 0, clicks = 0;
  for (size_t i = 0; i < ratings.size(); ++i) {
    base_loss += model::LogLoss((clicks + 1) / (i + 2), ratings[i].label);
    clicks += ratings[i].label;
  }
  base_loss /= ratings.size();
  std::printf("%zu ratings, %.1f%% clicks; running click rate: logloss %.4f\n",
              ratings.size(), 100.0 * clicks / ratings.size(), base_loss);
  std::printf("%-60s %8s %7s %6s %10s\n", "model", "logloss", "AUC", "NE", "events/s");
  struct Setting {
    model::ModelKind kind;
    std::vector<std::string> crosses;
    model::OptimizerKind optimizer = model::OptimizerKind::kFtrl;
    // DNN only: batch size and learning rate (0: the defaults, 256 and 0.001).
    uint32_t batch = 0;
    double learning_rate = 0;
    double dropout = 0.5;
  };
  const std::vector<Setting> settings = {
      {model::ModelKind::kLogisticRegression, {}},
      {model::ModelKind::kLogisticRegression, {"user x genres"}},
      {model::ModelKind::kLogisticRegression, {"user x genres", "item_id x *"}},
      {model::ModelKind::kFm, {}},
      {model::ModelKind::kFm, {}, model::OptimizerKind::kAdagrad},
      {model::ModelKind::kFm, {"user x genres"}},
      {model::ModelKind::kDnn, {}, model::OptimizerKind::kAdam},
      {model::ModelKind::kDnn, {}, model::OptimizerKind::kAdam, 32, 0.003},
      {model::ModelKind::kDnn, {}, model::OptimizerKind::kAdam, 8, 0.003, 0.1},
  };
  for (const Setting& s : settings) {
    model::ModelConfig c = model::DefaultModelConfig(s.kind);
    c.optimizer = model::DefaultOptimizerConfig(s.optimizer, s.kind);
    std::string label = s.kind == model::ModelKind::kFm ? "fm k=8" : "logistic";
    if (s.kind == model::ModelKind::kDnn) {
      // Embedded fields user, item_id, genres (mean of the genres' rows); 256-128 layers.
      c.dnn.fields = {"user", "item_id", "genres"};
      if (s.batch != 0) c.dnn.batch_size = s.batch;
      if (s.learning_rate != 0) c.optimizer.learning_rate = s.learning_rate;
      c.dnn.dropout = s.dropout;
      label = "dnn 256-128, batch " + std::to_string(c.dnn.batch_size) + ", lr " +
              std::to_string(c.optimizer.learning_rate).substr(0, 5) + ", dropout " +
              std::to_string(c.dnn.dropout).substr(0, 3);
    }
    label += ", " + model::OptimizerName(s.optimizer);
    for (const std::string& t : s.crosses) {
      c.crosses.push_back(*model::ParseCross(t));
      label += ", " + t;
    }
    std::unique_ptr<model::Model> created = *model::CreateModel(c);
    model::Model& m = *created;
    double loss = 0;
    std::vector<model::ScoredLabel> points;
    const auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < ratings.size(); ++i) {
      const model::TrainResult r =
          m.Train({features[i], static_cast<float>(ratings[i].label), 1.0f, 0});
      loss += model::LogLoss(r.prediction, ratings[i].label);
      points.push_back({r.prediction, ratings[i].label});
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    loss /= ratings.size();
    std::printf("%-60s %8.4f %7.4f %6.3f %10.0f\n", label.c_str(),
                loss, model::ExactAuc(points), loss / base_loss, ratings.size() / seconds);
  }
  return 0;
}
