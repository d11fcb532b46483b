#include "server/model_config_proto.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"

namespace streamrec::server {

absl::StatusOr<model::ModelConfig> ModelConfigFromProto(const v1::ModelConfig& proto) {
  model::ModelConfig c;
  switch (proto.kind()) {
    case v1::ModelConfig::KIND_UNSPECIFIED:
    case v1::ModelConfig::LOGISTIC_REGRESSION:
      c.kind = model::ModelKind::kLogisticRegression;
      break;
    case v1::ModelConfig::FM:
      c.kind = model::ModelKind::kFm;
      break;
    default:
      return absl::InvalidArgumentError("model config: unknown kind");
  }
  if (proto.has_hash_bits()) c.hash_bits = proto.hash_bits();
  if (proto.has_fm_factors()) {
    if (c.kind != model::ModelKind::kFm) {
      return absl::InvalidArgumentError("model config: fm_factors is for kind FM");
    }
    c.fm_factors = proto.fm_factors();
  }
  const v1::OptimizerConfig& o = proto.optimizer();
  model::OptimizerKind kind = model::OptimizerKind::kFtrl;
  switch (o.kind()) {
    case v1::OptimizerConfig::KIND_UNSPECIFIED:
    case v1::OptimizerConfig::FTRL: kind = model::OptimizerKind::kFtrl; break;
    case v1::OptimizerConfig::SGD: kind = model::OptimizerKind::kSgd; break;
    case v1::OptimizerConfig::ADAGRAD: kind = model::OptimizerKind::kAdagrad; break;
    case v1::OptimizerConfig::ADAM: kind = model::OptimizerKind::kAdam; break;
    default: return absl::InvalidArgumentError("model config: unknown optimizer.kind");
  }
  c.optimizer = model::DefaultOptimizerConfig(kind);
  if (o.has_learning_rate()) c.optimizer.learning_rate = o.learning_rate();
  if (o.has_l1()) c.optimizer.l1 = o.l1();
  if (o.has_l2()) c.optimizer.l2 = o.l2();
  if (o.has_beta1()) c.optimizer.beta1 = o.beta1();
  if (o.has_beta2()) c.optimizer.beta2 = o.beta2();
  if (o.has_epsilon()) c.optimizer.epsilon = o.epsilon();
  if (o.has_ftrl_beta()) c.optimizer.ftrl_beta = o.ftrl_beta();
  if (o.has_initial_accumulator()) c.optimizer.initial_accumulator = o.initial_accumulator();
  if (o.has_normalized()) c.optimizer.normalized = o.normalized();
  for (int i = 0; i < proto.crosses_size(); ++i) {
    absl::StatusOr<model::Cross> cross = model::ParseCross(proto.crosses(i));
    if (!cross.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("model config: crosses[", i, "]: ", cross.status().message()));
    }
    c.crosses.push_back(*std::move(cross));
  }
  if (absl::Status s = model::Validate(c); !s.ok()) return s;
  return c;
}

v1::ModelConfig ModelConfigToProto(const model::ModelConfig& c) {
  v1::ModelConfig p;
  switch (c.kind) {
    case model::ModelKind::kLogisticRegression:
      p.set_kind(v1::ModelConfig::LOGISTIC_REGRESSION);
      break;
    case model::ModelKind::kFm:
      p.set_kind(v1::ModelConfig::FM);
      p.set_fm_factors(c.fm_factors);
      break;
  }
  p.set_hash_bits(c.hash_bits);
  v1::OptimizerConfig* o = p.mutable_optimizer();
  switch (c.optimizer.kind) {
    case model::OptimizerKind::kSgd: o->set_kind(v1::OptimizerConfig::SGD); break;
    case model::OptimizerKind::kAdagrad: o->set_kind(v1::OptimizerConfig::ADAGRAD); break;
    case model::OptimizerKind::kAdam: o->set_kind(v1::OptimizerConfig::ADAM); break;
    case model::OptimizerKind::kFtrl: o->set_kind(v1::OptimizerConfig::FTRL); break;
  }
  o->set_learning_rate(c.optimizer.learning_rate);
  o->set_l1(c.optimizer.l1);
  o->set_l2(c.optimizer.l2);
  o->set_beta1(c.optimizer.beta1);
  o->set_beta2(c.optimizer.beta2);
  o->set_epsilon(c.optimizer.epsilon);
  o->set_ftrl_beta(c.optimizer.ftrl_beta);
  o->set_initial_accumulator(c.optimizer.initial_accumulator);
  o->set_normalized(c.optimizer.normalized);
  for (const model::Cross& cross : c.crosses) p.add_crosses(model::CrossText(cross));
  return p;
}

absl::StatusOr<model::ModelConfig> LoadModelConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read model config ", path));
  std::stringstream text;
  text << in.rdbuf();
  v1::ModelConfig proto;
  if (!google::protobuf::TextFormat::ParseFromString(text.str(), &proto)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a text-format streamrec.v1.ModelConfig"));
  }
  absl::StatusOr<model::ModelConfig> config = ModelConfigFromProto(proto);
  if (!config.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

}  // namespace streamrec::server
