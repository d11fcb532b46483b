// default_quality: the rule for defaults (README "Learning quality", issue 9 section 3).
// On every quality stream (bench/quality_streams.h), a model trained with the default
// config must beat the running click rate (NE < 1) and reach a progressive logloss at
// most 1.01x that of the best learning rate in {0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1}
// for the same model and optimizer. Prints one row per (stream, setting) and a verdict
// per stream; exits 1 if the rule fails anywhere.
//   build/bin/default_quality [--events N] [--kind logistic|fm] [--movielens DIR]
//       [--optimizer NAME] [--normalized 0|1] [--lr LR] [--l2 L2]   (a setting to try
//                                                                    as the default)
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench/quality_streams.h"
#include "model/auc.h"
#include "model/loss.h"
#include "model/model.h"

using namespace streamrec;

namespace {

using Result = bench::Progressive;

Result Run(const model::ModelConfig& config, const std::vector<model::Example>& examples) {
  return bench::RunProgressive(config, examples);
}

bool ParseOptimizer(const std::string& name, model::OptimizerKind& out) {
  for (auto k : {model::OptimizerKind::kSgd, model::OptimizerKind::kAdagrad,
                 model::OptimizerKind::kAdam, model::OptimizerKind::kFtrl}) {
    if (model::OptimizerName(k) == name) {
      out = k;
      return true;
    }
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  size_t events = 0;
  std::string dir = "../shared/data/movielens-latest-small";
  model::ModelConfig base;  // the defaults a user gets without --model_config
  bool optimizer_given = false;
  int normalized = -1;
  double lr = 0, l2 = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--events") {
      events = std::stoul(value);
    } else if (flag == "--movielens") {
      dir = value;
    } else if (flag == "--kind" && (value == "logistic" || value == "fm")) {
      base.kind = value == "fm" ? model::ModelKind::kFm : model::ModelKind::kLogisticRegression;
    } else if (flag == "--optimizer" && ParseOptimizer(value, base.optimizer.kind)) {
      optimizer_given = true;
    } else if (flag == "--normalized" && (value == "0" || value == "1")) {
      normalized = value == "1" ? 1 : 0;
    } else if (flag == "--lr") {
      lr = std::stod(value);
    } else if (flag == "--l2") {
      l2 = std::stod(value);
    } else {
      std::fprintf(stderr, "usage: default_quality [--events N] [--kind logistic|fm] "
                           "[--optimizer sgd|adagrad|adam|ftrl] [--movielens DIR]\n");
      return 2;
    }
  }
  if (optimizer_given) base.optimizer = model::DefaultOptimizerConfig(base.optimizer.kind);
  if (normalized >= 0) base.optimizer.normalized = normalized == 1;
  if (lr > 0) base.optimizer.learning_rate = lr;
  if (l2 >= 0) base.optimizer.l2 = l2;
  const std::vector<bench::Stream> streams = bench::QualityStreams(dir, events);
  std::printf("model %s, optimizer %s%s (default learning rate %g)\n",
              model::ModelKindName(base.kind).c_str(),
              model::OptimizerName(base.optimizer.kind).c_str(),
              base.optimizer.normalized ? ", normalized" : "", base.optimizer.learning_rate);
  std::printf("%-11s %8s %9s %8s %7s %6s %10s\n", "stream", "events", "lr", "logloss", "AUC",
              "NE", "events/s");
  bool all_ok = true;
  for (const bench::Stream& s : streams) {
    const double base_loss = bench::RunningRateLogLoss(s.examples);
    auto row = [&](const char* lr, const Result& r) {
      std::printf("%-11s %8zu %9s %8.4f %7.4f %6.3f %10.0f\n", s.name.c_str(), s.examples.size(),
                  lr, r.logloss, r.auc, r.logloss / base_loss, r.events_per_s);
    };
    const Result def = Run(base, s.examples);
    row("default", def);
    double best = 1e300, best_lr = 0;
    for (double lr : {0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0}) {
      model::ModelConfig c = base;
      c.optimizer.learning_rate = lr;
      const Result r = Run(c, s.examples);
      char label[32];
      std::snprintf(label, sizeof label, "%g", lr);
      row(label, r);
      if (r.logloss < best) best = r.logloss, best_lr = lr;
    }
    const bool ok = def.logloss < base_loss && def.logloss <= 1.01 * best;
    all_ok &= ok;
    std::printf("%-11s running rate %.4f, optimal %.4f; default / best (lr %g) = %.4f: %s\n\n",
                s.name.c_str(), base_loss, s.optimal_logloss, best_lr, def.logloss / best,
                ok ? "ok" : "FAILS the rule");
  }
  return all_ok ? 0 : 1;
}
