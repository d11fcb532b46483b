// Encoding of model::ModelConfig in the database and in export files (format 3, with a
// version, the crosses and the FM's factors; formats 1 (no crosses) and 2 (no factors) of
// earlier builds are still read),
// and the rule for which stored configurations the current one may resume: same model
// kind, hash size and optimizer kind (the shapes of the persisted tables).
// Hyperparameters and crosses may change (learned weights stay where they are).
// Pure functions.
#ifndef STREAMREC_STORAGE_CONFIG_CODEC_H_
#define STREAMREC_STORAGE_CONFIG_CODEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "model/model_config.h"

namespace streamrec::storage {

std::string EncodeConfig(const model::ModelConfig& config);
absl::StatusOr<model::ModelConfig> DecodeConfig(std::string_view data);
// CheckCompatible returns FailedPrecondition naming the difference, or OK.
absl::Status CheckCompatible(const model::ModelConfig& stored, const model::ModelConfig& current);

}  // namespace streamrec::storage

#endif  // STREAMREC_STORAGE_CONFIG_CODEC_H_
