// Encoding of model::ModelConfig in the database and in export files (format 4, with a
// version, the crosses, the FM's factors, optimizer.normalized and the DNN's config;
// format 5, the same layout, for DeepFM only, so earlier builds refuse it by its format;
// format 6, for a DNN or DeepFM training with the ordered kernels, adds dnn.kernels;
// format 7, only for a config that explores (exploration not greedy), adds the
// exploration policy; formats 1 (no crosses), 2 (no factors) and 3 (not normalized, no
// DNN) of earlier builds are still read, formats 1 to 5 read as dnn.kernels kEigen and
// 1 to 6 as greedy), and the rule for which
// stored configurations the current one may resume: same model kind, hash size,
// optimizer kind and normalization, and for a DNN or DeepFM the same embedding_dim,
// hidden layers, fields, dense fields and other_slot (the shapes of the persisted tables)
// and the same kernels (the arithmetic training repeats on replay). Hyperparameters, crosses and the DNN's dropout, batch_size,
// clip_norm and pooling may change (learned weights stay where they are), and so may the
// exploration policy (serving only: nothing trained depends on it).
// Pure functions.
#ifndef STREAMREC_STORAGE_CONFIG_CODEC_H_
#define STREAMREC_STORAGE_CONFIG_CODEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "model/model_config.h"

namespace streamrec::storage {

std::string EncodeConfig(const model::ModelConfig& config);
// EncodeTrainingConfig: the config without its serving-only part (exploration), for
// snapshot manifests and exports: a snapshot taken while exploring stays readable by a
// build that predates exploration (config format 7 is written only for the data dir's
// own stored config).
std::string EncodeTrainingConfig(const model::ModelConfig& config);
absl::StatusOr<model::ModelConfig> DecodeConfig(std::string_view data);
// CheckCompatible returns FailedPrecondition naming the difference, or OK.
absl::Status CheckCompatible(const model::ModelConfig& stored, const model::ModelConfig& current);

}  // namespace streamrec::storage

#endif  // STREAMREC_STORAGE_CONFIG_CODEC_H_
