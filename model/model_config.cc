#include "model/model_config.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace streamrec::model {

OptimizerConfig DefaultOptimizerConfig(OptimizerKind kind) {
  OptimizerConfig c;
  c.kind = kind;
  c.l1 = 0.0;
  c.l2 = 0.0;
  c.normalized = false;
  switch (kind) {
    // SGD, Adagrad, Adam: each one's best learning rate in bench/optimizer_sweep on
    // MovieLens, not normalized.
    case OptimizerKind::kSgd:
      c.learning_rate = 0.1;
      break;
    case OptimizerKind::kAdagrad:
      c.learning_rate = 0.3;
      c.epsilon = 1e-6;
      break;
    case OptimizerKind::kAdam:
      c.learning_rate = 0.01;
      break;
    case OptimizerKind::kFtrl:
      // Normalized, alpha 1: within 1% of the best alpha of the grid 0.001..1 on every
      // quality stream, scaled or not, 5 or 40 features (bench/default_quality).
      c.learning_rate = 1.0;
      c.ftrl_beta = 1.0;
      c.l1 = 0.0;
      c.l2 = 1.0;
      c.normalized = true;
      break;
  }
  return c;
}

absl::Status Validate(const ModelConfig& config) {
  auto bad = [](const char* field, double v) {
    return absl::InvalidArgumentError(absl::StrCat("model config: ", field,
                                                   " out of range: ", v));
  };
  if (config.hash_bits < 4 || config.hash_bits > 30) {
    return bad("hash_bits (allowed 4..30)", config.hash_bits);
  }
  const OptimizerConfig& o = config.optimizer;
  auto finite_nonneg = [](double v) { return std::isfinite(v) && v >= 0; };
  if (!(std::isfinite(o.learning_rate) && o.learning_rate > 0)) {
    return bad("optimizer.learning_rate (must be > 0)", o.learning_rate);
  }
  if (!finite_nonneg(o.l1)) return bad("optimizer.l1 (must be >= 0)", o.l1);
  if (!finite_nonneg(o.l2)) return bad("optimizer.l2 (must be >= 0)", o.l2);
  if (!(o.beta1 >= 0 && o.beta1 < 1)) return bad("optimizer.beta1 (must be in [0,1))", o.beta1);
  if (!(o.beta2 >= 0 && o.beta2 < 1)) return bad("optimizer.beta2 (must be in [0,1))", o.beta2);
  if (!(std::isfinite(o.epsilon) && o.epsilon > 0)) {
    return bad("optimizer.epsilon (must be > 0)", o.epsilon);
  }
  if (!finite_nonneg(o.ftrl_beta)) return bad("optimizer.ftrl_beta (must be >= 0)", o.ftrl_beta);
  if (!finite_nonneg(o.initial_accumulator)) {
    return bad("optimizer.initial_accumulator (must be >= 0)", o.initial_accumulator);
  }
  if (config.kind == ModelKind::kFm) {
    if (config.fm_factors < 1 || config.fm_factors > 64) {
      return bad("fm_factors (allowed 1..64)", config.fm_factors);
    }
    if ((uint64_t{config.fm_factors} << config.hash_bits) > (uint64_t{1} << 28)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model config: fm_factors x 2^hash_bits = ", uint64_t{config.fm_factors} << config.hash_bits,
          " factors, more than 2^28 (lower hash_bits or fm_factors)"));
    }
  }
  return ValidateCrosses(config.crosses);
}

std::string ModelKindName(ModelKind kind) {
  switch (kind) {
    case ModelKind::kLogisticRegression: return "logistic regression";
    case ModelKind::kFm: return "factorization machine";
  }
  return "unknown";
}

std::string OptimizerName(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::kSgd: return "sgd";
    case OptimizerKind::kAdagrad: return "adagrad";
    case OptimizerKind::kAdam: return "adam";
    case OptimizerKind::kFtrl: return "ftrl";
  }
  return "unknown";
}

}  // namespace streamrec::model
