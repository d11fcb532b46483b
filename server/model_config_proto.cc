#include "server/model_config_proto.h"

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"

namespace streamrec::server {
namespace {

absl::Status DnnFromProto(const v1::DnnConfig& p, model::DnnConfig& d) {
  if (p.has_embedding_dim()) d.embedding_dim = p.embedding_dim();
  if (p.hidden_size() > 0) d.hidden.assign(p.hidden().begin(), p.hidden().end());
  if (p.has_dropout()) d.dropout = p.dropout();
  if (p.has_batch_size()) d.batch_size = p.batch_size();
  if (p.has_clip_norm()) d.clip_norm = p.clip_norm();
  d.fields.assign(p.fields().begin(), p.fields().end());
  for (int i = 0; i < p.dense_fields_size(); ++i) {
    const std::string& text = p.dense_fields(i);
    model::DnnDenseField f;
    const size_t colon = text.rfind(':');
    f.name = text.substr(0, colon);
    if (colon != std::string::npos && !absl::SimpleAtoi(text.substr(colon + 1), &f.dim)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model config: dnn.dense_fields[", i, "]: \"", text,
          "\" is not name:dim (e.g. \"emb:128\", or a number field's name)"));
    }
    d.dense_fields.push_back(std::move(f));
  }
  switch (p.pooling()) {
    case v1::DnnConfig::POOLING_UNSPECIFIED:
    case v1::DnnConfig::MEAN: d.pooling = model::DnnPooling::kMean; break;
    case v1::DnnConfig::SUM: d.pooling = model::DnnPooling::kSum; break;
    default: return absl::InvalidArgumentError("model config: unknown dnn.pooling");
  }
  if (p.has_other_slot()) d.other_slot = p.other_slot();
  switch (p.kernels()) {
    case v1::DnnConfig::KERNELS_UNSPECIFIED: break;  // kernels_explicit stays false
    case v1::DnnConfig::EIGEN: d.kernels = model::DnnKernels::kEigen; break;
    case v1::DnnConfig::ORDERED: d.kernels = model::DnnKernels::kOrdered; break;
    default: return absl::InvalidArgumentError("model config: unknown dnn.kernels");
  }
  d.kernels_explicit = p.kernels() != v1::DnnConfig::KERNELS_UNSPECIFIED;
  return absl::OkStatus();
}

void DnnToProto(const model::DnnConfig& d, v1::DnnConfig& p) {
  p.set_embedding_dim(d.embedding_dim);
  for (uint32_t h : d.hidden) p.add_hidden(h);
  p.set_dropout(d.dropout);
  p.set_batch_size(d.batch_size);
  p.set_clip_norm(d.clip_norm);
  for (const std::string& f : d.fields) p.add_fields(f);
  for (const model::DnnDenseField& f : d.dense_fields) {
    p.add_dense_fields(absl::StrCat(f.name, ":", f.dim));
  }
  p.set_pooling(d.pooling == model::DnnPooling::kSum ? v1::DnnConfig::SUM : v1::DnnConfig::MEAN);
  p.set_other_slot(d.other_slot);
  p.set_kernels(d.kernels == model::DnnKernels::kEigen ? v1::DnnConfig::EIGEN
                                                        : v1::DnnConfig::ORDERED);
}

absl::Status ExplorationFromProto(const v1::ExplorationConfig& p, model::ExplorationConfig& e) {
  switch (p.policy()) {
    case v1::ExplorationConfig::POLICY_UNSPECIFIED:
    case v1::ExplorationConfig::GREEDY: e.kind = model::ExplorationKind::kGreedy; break;
    case v1::ExplorationConfig::EPSILON_GREEDY:
      e.kind = model::ExplorationKind::kEpsilonGreedy;
      break;
    case v1::ExplorationConfig::SOFTMAX: e.kind = model::ExplorationKind::kSoftmax; break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("model config: exploration.policy: unknown value ", p.policy()));
  }
  if (p.has_epsilon()) {
    if (e.kind != model::ExplorationKind::kEpsilonGreedy) {
      return absl::InvalidArgumentError(
          "model config: exploration.epsilon is for policy EPSILON_GREEDY");
    }
    e.epsilon = p.epsilon();
  }
  if (p.has_temperature()) {
    if (e.kind != model::ExplorationKind::kSoftmax) {
      return absl::InvalidArgumentError(
          "model config: exploration.temperature is for policy SOFTMAX");
    }
    e.temperature = p.temperature();
  }
  return absl::OkStatus();
}

// ExplorationToProto: the policy, and the parameter of that policy only (a parameter of
// another policy would be refused when read back).
void ExplorationToProto(const model::ExplorationConfig& e, v1::ExplorationConfig& p) {
  switch (e.kind) {
    case model::ExplorationKind::kGreedy: p.set_policy(v1::ExplorationConfig::GREEDY); break;
    case model::ExplorationKind::kEpsilonGreedy:
      p.set_policy(v1::ExplorationConfig::EPSILON_GREEDY);
      p.set_epsilon(e.epsilon);
      break;
    case model::ExplorationKind::kSoftmax:
      p.set_policy(v1::ExplorationConfig::SOFTMAX);
      p.set_temperature(e.temperature);
      break;
  }
}

}  // namespace

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
    case v1::ModelConfig::DNN:
      c.kind = model::ModelKind::kDnn;
      break;
    case v1::ModelConfig::DEEPFM:
      c.kind = model::ModelKind::kDeepFm;
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
  c.dnn.kernels_explicit = false;  // unless the dnn section names them
  if (proto.has_dnn()) {
    if (!model::UsesDnnConfig(c.kind)) {
      return absl::InvalidArgumentError("model config: dnn is for kind DNN or DEEPFM");
    }
    if (absl::Status s = DnnFromProto(proto.dnn(), c.dnn); !s.ok()) return s;
  }
  const v1::OptimizerConfig& o = proto.optimizer();
  // The default optimizer: FTRL for the linear models, Adam for DNN and DeepFM.
  model::OptimizerKind kind = model::UsesDnnConfig(c.kind) ? model::OptimizerKind::kAdam
                                                           : model::OptimizerKind::kFtrl;
  switch (o.kind()) {
    case v1::OptimizerConfig::KIND_UNSPECIFIED: break;
    case v1::OptimizerConfig::FTRL: kind = model::OptimizerKind::kFtrl; break;
    case v1::OptimizerConfig::SGD: kind = model::OptimizerKind::kSgd; break;
    case v1::OptimizerConfig::ADAGRAD: kind = model::OptimizerKind::kAdagrad; break;
    case v1::OptimizerConfig::ADAM: kind = model::OptimizerKind::kAdam; break;
    default: return absl::InvalidArgumentError("model config: unknown optimizer.kind");
  }
  c.optimizer = model::DefaultOptimizerConfig(kind, c.kind);
  if (o.has_learning_rate()) c.optimizer.learning_rate = o.learning_rate();
  if (o.has_l1()) c.optimizer.l1 = o.l1();
  if (o.has_l2()) c.optimizer.l2 = o.l2();
  if (o.has_beta1()) c.optimizer.beta1 = o.beta1();
  if (o.has_beta2()) c.optimizer.beta2 = o.beta2();
  if (o.has_epsilon()) c.optimizer.epsilon = o.epsilon();
  if (o.has_ftrl_beta()) c.optimizer.ftrl_beta = o.ftrl_beta();
  if (o.has_initial_accumulator()) c.optimizer.initial_accumulator = o.initial_accumulator();
  if (o.has_normalized()) c.optimizer.normalized = o.normalized();
  c.optimizer.normalized_explicit = o.has_normalized();
  for (int i = 0; i < proto.crosses_size(); ++i) {
    absl::StatusOr<model::Cross> cross = model::ParseCross(proto.crosses(i));
    if (!cross.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("model config: crosses[", i, "]: ", cross.status().message()));
    }
    c.crosses.push_back(*std::move(cross));
  }
  if (absl::Status s = ExplorationFromProto(proto.exploration(), c.exploration); !s.ok()) {
    return s;
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
    case model::ModelKind::kDnn:
      p.set_kind(v1::ModelConfig::DNN);
      DnnToProto(c.dnn, *p.mutable_dnn());
      break;
    case model::ModelKind::kDeepFm:
      p.set_kind(v1::ModelConfig::DEEPFM);
      DnnToProto(c.dnn, *p.mutable_dnn());
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
  ExplorationToProto(c.exploration, *p.mutable_exploration());
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
