// ModelConfig: the model kind, table size and optimizer with every default filled in.
// A plain value; the server converts the protobuf ModelConfig into it once at start.
#ifndef STREAMREC_MODEL_MODEL_CONFIG_H_
#define STREAMREC_MODEL_MODEL_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "model/cross.h"

namespace streamrec::model {

enum class OptimizerKind { kSgd, kAdagrad, kAdam, kFtrl };
enum class ModelKind { kLogisticRegression = 0, kFm = 1 };

// OptimizerConfig holds the hyperparameters of the per-coordinate optimizers.
// learning_rate is FTRL's alpha. The defaults are the server's default optimizer:
// normalized FTRL with alpha 1 (README "Defaults that win without tuning").
struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::kFtrl;
  double learning_rate = 1.0;
  double l1 = 0.0;
  double l2 = 1.0;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
  double ftrl_beta = 1.0;
  double initial_accumulator = 0.1;
  // Scale-normalized updates (Ross, Mineiro and Langford 2013, "Normalized Online
  // Learning"; Vowpal Wabbit's --normalized): each coordinate learns on x / s, s = the
  // largest |x| it has seen, and an event's step is divided by the square root of its
  // normalized squared norm sum (x / s)^2: a feature's unit never changes the step, and
  // n features per event move the score sqrt(n), not n, times as far as one. The rule is
  // in model/optimizer.h. Applies to the
  // linear weights (logistic regression, and an FM's linear part). On by default for
  // FTRL; a stored config of format 3 or older (earlier builds) reads as off.
  bool normalized = true;
};

struct ModelConfig {
  ModelKind kind = ModelKind::kLogisticRegression;
  uint32_t hash_bits = 20;
  OptimizerConfig optimizer;
  // Fields crossed into interaction features (model/cross.h); none by default.
  std::vector<Cross> crosses;
  // Factorization machine (kind kFm): factors per row (k), 1..64; k * 2^hash_bits at
  // most 2^28 floats.
  uint32_t fm_factors = 8;
};

// DefaultOptimizerConfig returns the measured defaults for `kind` (README, "Choosing
// the default optimizer").
OptimizerConfig DefaultOptimizerConfig(OptimizerKind kind);

// Validate returns InvalidArgument naming the first field out of range.
absl::Status Validate(const ModelConfig& config);

std::string OptimizerName(OptimizerKind kind);
// ModelKindName: "logistic regression", "factorization machine".
std::string ModelKindName(ModelKind kind);

}  // namespace streamrec::model

#endif  // STREAMREC_MODEL_MODEL_CONFIG_H_
