#include "model/model_config.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "model/optimizer.h"

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

OptimizerConfig DefaultOptimizerConfig(OptimizerKind kind, ModelKind model) {
  OptimizerConfig c = DefaultOptimizerConfig(kind);
  if (UsesDnnConfig(model) && kind == OptimizerKind::kAdam) c.learning_rate = 0.001;
  return c;
}

ModelConfig DefaultModelConfig(ModelKind kind) {
  ModelConfig c;
  c.kind = kind;
  if (UsesDnnConfig(kind)) {
    c.optimizer = DefaultOptimizerConfig(OptimizerKind::kAdam, kind);
  }
  return c;
}

uint64_t DnnInputDim(const DnnConfig& dnn) {
  uint64_t dim = (uint64_t{dnn.fields.size()} + (dnn.other_slot ? 1 : 0)) * dnn.embedding_dim;
  for (const DnnDenseField& f : dnn.dense_fields) dim += f.dim;
  return dim;
}

std::string DnnLayersText(const std::vector<uint32_t>& hidden) {
  return absl::StrJoin(hidden, ",");
}

namespace {

absl::Status ValidateDnn(const ModelConfig& config) {
  const DnnConfig& d = config.dnn;
  auto bad = [](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("model config: dnn.", what));
  };
  if (d.embedding_dim < 1 || d.embedding_dim > 256) {
    return bad(absl::StrCat("embedding_dim out of range (allowed 1..256): ", d.embedding_dim));
  }
  if (d.hidden.empty() || d.hidden.size() > 8) {
    return bad(absl::StrCat("hidden: ", d.hidden.size(), " layers (allowed 1..8)"));
  }
  for (size_t i = 0; i < d.hidden.size(); ++i) {
    if (d.hidden[i] < 1 || d.hidden[i] > 4096) {
      return bad(absl::StrCat("hidden[", i, "] out of range (allowed 1..4096): ", d.hidden[i]));
    }
  }
  if (!(d.dropout >= 0 && d.dropout < 1)) {
    return bad(absl::StrCat("dropout out of range (allowed [0, 1)): ", d.dropout));
  }
  if (d.batch_size < 1 || d.batch_size > 4096) {
    return bad(absl::StrCat("batch_size out of range (allowed 1..4096): ", d.batch_size));
  }
  if (!(std::isfinite(d.clip_norm) && d.clip_norm >= 0)) {
    return bad(absl::StrCat("clip_norm out of range (must be >= 0; 0 is off): ", d.clip_norm));
  }
  if (d.fields.size() > 1024) {
    return bad(absl::StrCat("fields: ", d.fields.size(), " fields (at most 1024)"));
  }
  if (d.dense_fields.size() > 1024) {
    return bad(absl::StrCat("dense_fields: ", d.dense_fields.size(), " fields (at most 1024)"));
  }
  std::set<std::string> names;
  for (size_t i = 0; i < d.fields.size(); ++i) {
    const std::string& f = d.fields[i];
    if (f.empty() || f.size() > 256) {
      return bad(absl::StrCat("fields[", i, "]: a field name is 1 to 256 bytes"));
    }
    if (!names.insert(f).second) {
      return bad(absl::StrCat("fields[", i, "]: field \"", f, "\" listed twice"));
    }
  }
  uint64_t dense_dims = 0;
  for (size_t i = 0; i < d.dense_fields.size(); ++i) {
    const DnnDenseField& f = d.dense_fields[i];
    if (f.name.empty() || f.name.size() > 256) {
      return bad(absl::StrCat("dense_fields[", i, "]: a field name is 1 to 256 bytes"));
    }
    if (!names.insert(f.name).second) {
      return bad(absl::StrCat("dense_fields[", i, "]: field \"", f.name,
                              "\" listed twice (in fields or dense_fields)"));
    }
    if (f.name == "item_id") {
      return bad(absl::StrCat("dense_fields[", i, "]: item_id is a category (list it in "
                              "fields)"));
    }
    if (f.dim < 1 || f.dim > 65536) {
      return bad(absl::StrCat("dense_fields[", i, "]: dimension of \"", f.name,
                              "\" out of range (allowed 1..65536): ", f.dim));
    }
    dense_dims += f.dim;
  }
  if (dense_dims > 65536) {
    return bad(absl::StrCat("dense_fields: ", dense_dims, " dimensions in all (at most 65536)"));
  }
  const uint64_t input = DnnInputDim(d);
  if (input == 0) {
    return bad("fields: no inputs (no fields, no dense_fields and other_slot off)");
  }
  uint64_t weights = 0, fan_in = input;
  for (uint32_t h : d.hidden) {
    weights += fan_in * h;
    fan_in = h;
  }
  if (weights > (uint64_t{1} << 26)) {
    return bad(absl::StrCat("hidden: the layers hold ", weights,
                            " weights, more than 2^26 (fewer inputs or units)"));
  }
  if ((uint64_t{d.embedding_dim} << config.hash_bits) > (uint64_t{1} << 28)) {
    return bad(absl::StrCat("embedding_dim x 2^hash_bits = ",
                            uint64_t{d.embedding_dim} << config.hash_bits,
                            " floats, more than 2^28 (lower hash_bits or embedding_dim)"));
  }
  if (config.optimizer.kind == OptimizerKind::kFtrl) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model config: optimizer.kind FTRL is not supported for kind ",
        config.kind == ModelKind::kDeepFm ? "DEEPFM" : "DNN",
        " (FTRL sets a weight from its own state, erasing the layers' initialization; use "
        "ADAM, ADAGRAD or SGD)"));
  }
  if (config.optimizer.normalized) {
    return absl::InvalidArgumentError(
        "model config: optimizer.normalized is for linear weights (logistic regression, "
        "FM); it is not supported for kind DNN");
  }
  if (d.kernels != DnnKernels::kEigen && d.kernels != DnnKernels::kOrdered) {
    return bad(absl::StrCat("kernels: unknown value ", static_cast<int>(d.kernels)));
  }
  return absl::OkStatus();
}

}  // namespace

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
  if (UsesDnnConfig(config.kind)) {
    if (absl::Status s = ValidateDnn(config); !s.ok()) return s;
  }
  if (absl::Status s = ValidateExploration(config.exploration); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("model config: ", s.message()));
  }
  return ValidateCrosses(config.crosses);
}

uint64_t ModelMemoryBytes(const ModelConfig& config) {
  const uint64_t rows = uint64_t{1} << std::min<uint32_t>(config.hash_bits, 40);
  const uint64_t slots = static_cast<uint64_t>(OptimizerSlots(config.optimizer.kind));
  const uint64_t scale = config.optimizer.normalized ? 1 : 0;
  uint64_t per_row = 0;  // parameters per row
  uint64_t dense = 0;    // parameters outside the rows (a deep model's layers)
  switch (config.kind) {
    case ModelKind::kLogisticRegression: per_row = 1; break;
    case ModelKind::kFm: per_row = 1 + uint64_t{config.fm_factors}; break;
    case ModelKind::kDnn:
    case ModelKind::kDeepFm: {
      per_row = config.dnn.embedding_dim + (config.kind == ModelKind::kDeepFm ? 1 : 0);
      uint64_t in = DnnInputDim(config.dnn);
      for (uint32_t units : config.dnn.hidden) {
        dense += (in + 1) * units;
        in = units;
      }
      dense += in + 1;
      break;
    }
  }
  // Trainer: parameters and their slots (+ one scale per row); serving: one copy.
  const uint64_t floats = rows * (per_row * (1 + slots) + scale) + dense * (1 + slots) +
                          rows * per_row + dense;
  return floats * sizeof(float);
}

const char* DnnKernelsName(DnnKernels kernels) {
  return kernels == DnnKernels::kEigen ? "EIGEN" : "ORDERED";
}

std::string ModelKindName(ModelKind kind) {
  switch (kind) {
    case ModelKind::kLogisticRegression: return "logistic regression";
    case ModelKind::kFm: return "factorization machine";
    case ModelKind::kDnn: return "deep neural network";
    case ModelKind::kDeepFm: return "DeepFM";
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
