// Conversion between the API's ModelConfig (protobuf) and model::ModelConfig, with
// defaults filled in, and loading it from a text-format file. Pure functions.
#ifndef STREAMREC_SERVER_MODEL_CONFIG_PROTO_H_
#define STREAMREC_SERVER_MODEL_CONFIG_PROTO_H_

#include <string>

#include "absl/status/statusor.h"
#include "model/model_config.h"
#include "streamrec/v1/model_config.pb.h"

namespace streamrec::server {

// ModelConfigFromProto fills unset fields with defaults and validates the result.
absl::StatusOr<model::ModelConfig> ModelConfigFromProto(const v1::ModelConfig& proto);
// ModelConfigToProto returns the effective configuration, every field set.
v1::ModelConfig ModelConfigToProto(const model::ModelConfig& config);
// LoadModelConfig reads a text-format v1.ModelConfig; errors name the file.
absl::StatusOr<model::ModelConfig> LoadModelConfig(const std::string& path);

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_MODEL_CONFIG_PROTO_H_
