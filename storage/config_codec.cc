#include "storage/config_codec.h"

#include "absl/strings/str_cat.h"
#include "storage/encoding.h"

namespace streamrec::storage {

std::string EncodeConfig(const model::ModelConfig& c) {
  std::string out;
  PutU32(out, static_cast<uint32_t>(c.kind));
  PutU32(out, c.hash_bits);
  const model::OptimizerConfig& o = c.optimizer;
  PutU32(out, static_cast<uint32_t>(o.kind));
  for (double v : {o.learning_rate, o.l1, o.l2, o.beta1, o.beta2, o.epsilon, o.ftrl_beta,
                   o.initial_accumulator}) {
    PutF64(out, v);
  }
  return out;
}

absl::StatusOr<model::ModelConfig> DecodeConfig(std::string_view data) {
  Reader r(data);
  model::ModelConfig c;
  uint32_t kind = 0, optimizer = 0;
  r.GetU32(kind);
  r.GetU32(c.hash_bits);
  r.GetU32(optimizer);
  model::OptimizerConfig& o = c.optimizer;
  for (double* v : {&o.learning_rate, &o.l1, &o.l2, &o.beta1, &o.beta2, &o.epsilon,
                    &o.ftrl_beta, &o.initial_accumulator}) {
    r.GetF64(*v);
  }
  if (!r.done()) return absl::DataLossError("stored model config is malformed");
  if (kind > 0) {
    return absl::DataLossError(absl::StrCat("stored model config names model kind ", kind,
                                            ", which this build does not know (it knows 0, "
                                            "logistic regression)"));
  }
  if (optimizer > 3) {
    return absl::DataLossError(absl::StrCat("stored model config names optimizer ", optimizer,
                                            ", which this build does not know (it knows 0 to 3)"));
  }
  c.kind = static_cast<model::ModelKind>(kind);
  o.kind = static_cast<model::OptimizerKind>(optimizer);
  return c;
}

absl::Status CheckCompatible(const model::ModelConfig& stored, const model::ModelConfig& current) {
  if (stored.kind != current.kind) {
    return absl::FailedPreconditionError("the data was written by another model kind");
  }
  if (stored.hash_bits != current.hash_bits) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the data was written with hash_bits ", stored.hash_bits, ", the config says ",
        current.hash_bits));
  }
  if (stored.optimizer.kind != current.optimizer.kind) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the data was written with optimizer ", model::OptimizerName(stored.optimizer.kind),
        ", the config says ", model::OptimizerName(current.optimizer.kind)));
  }
  return absl::OkStatus();
}

}  // namespace streamrec::storage
