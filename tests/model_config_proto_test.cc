// ModelConfigFromProto / ModelConfigToProto (server/model_config_proto.h) for the DNN
// and DeepFM:
// defaults (Adam, learning rate 0.001), every field both ways, dense field parsing, and
// dnn fields refused for the other kinds and fm_factors for the DNN, naming the field;
// the exploration policy both ways.
#include "server/model_config_proto.h"

#include <gtest/gtest.h>

#include "google/protobuf/text_format.h"

namespace streamrec::server {
namespace {

absl::StatusOr<model::ModelConfig> FromText(const std::string& text) {
  v1::ModelConfig proto;
  if (!google::protobuf::TextFormat::ParseFromString(text, &proto)) {
    return absl::InvalidArgumentError("unparsable: " + text);
  }
  return ModelConfigFromProto(proto);
}

TEST(ModelConfigProtoTest, DnnDefaults) {
  absl::StatusOr<model::ModelConfig> c = FromText("kind: DNN");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->kind, model::ModelKind::kDnn);
  EXPECT_EQ(c->optimizer.kind, model::OptimizerKind::kAdam);
  EXPECT_EQ(c->optimizer.learning_rate, 0.001);
  EXPECT_EQ(c->dnn.hidden, (std::vector<uint32_t>{256, 128}));
  EXPECT_EQ(c->dnn.embedding_dim, 8u);
  EXPECT_EQ(c->dnn.dropout, 0.5);
  EXPECT_EQ(c->dnn.batch_size, 256u);
  EXPECT_EQ(c->dnn.clip_norm, 10.0);
  EXPECT_TRUE(c->dnn.other_slot);
  // An explicit Adam without a rate also gets the DNN's 0.001; other optimizers keep
  // their defaults.
  c = FromText("kind: DNN optimizer { kind: ADAM }");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->optimizer.learning_rate, 0.001);
  c = FromText("kind: DNN optimizer { kind: SGD }");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->optimizer.learning_rate, 0.1);
  // The linear models keep FTRL.
  c = FromText("kind: FM");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->optimizer.kind, model::OptimizerKind::kFtrl);
}

TEST(ModelConfigProtoTest, DnnRoundTrips) {
  absl::StatusOr<model::ModelConfig> c = FromText(R"(
    kind: DNN hash_bits: 16
    dnn { embedding_dim: 4 hidden: 32 hidden: 8 dropout: 0.2 batch_size: 64 clip_norm: 2
          fields: "user" fields: "item_id" dense_fields: "emb:16" dense_fields: "price"
          pooling: SUM other_slot: false })");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->dnn.dense_fields,
            (std::vector<model::DnnDenseField>{{"emb", 16}, {"price", 1}}));
  EXPECT_EQ(c->dnn.pooling, model::DnnPooling::kSum);
  const v1::ModelConfig p = ModelConfigToProto(*c);
  EXPECT_EQ(p.kind(), v1::ModelConfig::DNN);
  EXPECT_EQ(p.dnn().dense_fields(1), "price:1");
  absl::StatusOr<model::ModelConfig> back = ModelConfigFromProto(p);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->dnn.hidden, c->dnn.hidden);
  EXPECT_EQ(back->dnn.fields, c->dnn.fields);
  EXPECT_EQ(back->dnn.dense_fields, c->dnn.dense_fields);
  EXPECT_EQ(back->dnn.embedding_dim, 4u);
  EXPECT_EQ(back->dnn.dropout, 0.2);
  EXPECT_EQ(back->dnn.batch_size, 64u);
  EXPECT_EQ(back->dnn.clip_norm, 2.0);
  EXPECT_EQ(back->dnn.pooling, model::DnnPooling::kSum);
  EXPECT_FALSE(back->dnn.other_slot);
  // Other kinds carry no dnn message.
  EXPECT_FALSE(ModelConfigToProto(model::ModelConfig()).has_dnn());
}

TEST(ModelConfigProtoTest, DeepFmDefaultsAndRoundTrip) {
  absl::StatusOr<model::ModelConfig> c = FromText("kind: DEEPFM");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->kind, model::ModelKind::kDeepFm);
  EXPECT_EQ(c->optimizer.kind, model::OptimizerKind::kAdam);
  EXPECT_EQ(c->optimizer.learning_rate, 0.001);
  EXPECT_EQ(c->dnn.hidden, (std::vector<uint32_t>{256, 128}));
  c = FromText(R"(
    kind: DEEPFM hash_bits: 14 optimizer { kind: ADAGRAD learning_rate: 0.05 }
    dnn { embedding_dim: 6 hidden: 24 dropout: 0.1 batch_size: 32 clip_norm: 3
          fields: "user" fields: "genres" dense_fields: "price" pooling: SUM })");
  ASSERT_TRUE(c.ok()) << c.status();
  const v1::ModelConfig p = ModelConfigToProto(*c);
  EXPECT_EQ(p.kind(), v1::ModelConfig::DEEPFM);
  EXPECT_TRUE(p.has_dnn());
  absl::StatusOr<model::ModelConfig> back = ModelConfigFromProto(p);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->kind, model::ModelKind::kDeepFm);
  EXPECT_EQ(back->hash_bits, 14u);
  EXPECT_EQ(back->optimizer.kind, model::OptimizerKind::kAdagrad);
  EXPECT_EQ(back->optimizer.learning_rate, 0.05);
  EXPECT_EQ(back->dnn.embedding_dim, 6u);
  EXPECT_EQ(back->dnn.hidden, (std::vector<uint32_t>{24}));
  EXPECT_EQ(back->dnn.dropout, 0.1);
  EXPECT_EQ(back->dnn.batch_size, 32u);
  EXPECT_EQ(back->dnn.clip_norm, 3.0);
  EXPECT_EQ(back->dnn.fields, (std::vector<std::string>{"user", "genres"}));
  EXPECT_EQ(back->dnn.dense_fields, (std::vector<model::DnnDenseField>{{"price", 1}}));
  EXPECT_EQ(back->dnn.pooling, model::DnnPooling::kSum);
  EXPECT_EQ(ModelConfigToProto(*back).SerializeAsString(), p.SerializeAsString());
}

// dnn.kernels: left out, the config is not explicit (a data dir's own setting wins; a
// new one trains ORDERED); named, it is explicit and round-trips.
TEST(ModelConfigProtoTest, DnnKernelsExplicitOnlyWhenNamed) {
  for (const char* kind : {"DNN", "DEEPFM"}) {
    SCOPED_TRACE(kind);
    const std::string k = std::string("kind: ") + kind;
    for (const std::string& text : {k, k + " dnn { batch_size: 8 }"}) {
      absl::StatusOr<model::ModelConfig> c = FromText(text);
      ASSERT_TRUE(c.ok()) << c.status();
      EXPECT_EQ(c->dnn.kernels, model::DnnKernels::kOrdered) << text;
      EXPECT_FALSE(c->dnn.kernels_explicit) << text;
    }
    for (const auto& [name, kernels] :
         {std::pair{"EIGEN", model::DnnKernels::kEigen},
          std::pair{"ORDERED", model::DnnKernels::kOrdered}}) {
      absl::StatusOr<model::ModelConfig> c =
          FromText(k + " dnn { kernels: " + name + " }");
      ASSERT_TRUE(c.ok()) << c.status();
      EXPECT_EQ(c->dnn.kernels, kernels);
      EXPECT_TRUE(c->dnn.kernels_explicit);
      const v1::ModelConfig p = ModelConfigToProto(*c);
      EXPECT_EQ(v1::DnnConfig::Kernels_Name(p.dnn().kernels()), name);
      absl::StatusOr<model::ModelConfig> back = ModelConfigFromProto(p);
      ASSERT_TRUE(back.ok()) << back.status();
      EXPECT_EQ(back->dnn.kernels, kernels);
    }
  }
}

TEST(ModelConfigProtoTest, MisplacedOrBadDnnFieldsAreRefusedByName) {
  const std::pair<const char*, const char*> cases[] = {
      {"kind: FM dnn { batch_size: 4 }", "dnn is for kind DNN"},
      {"dnn { batch_size: 4 }", "dnn is for kind DNN"},
      {"kind: DNN fm_factors: 4", "fm_factors is for kind FM"},
      {"kind: DNN dnn { dense_fields: \"emb:x\" }", "dnn.dense_fields[0]: \"emb:x\" is not name:dim"},
      {"kind: DNN dnn { batch_size: 0 }", "dnn.batch_size out of range"},
      {"kind: DNN dnn { hidden: 0 }", "dnn.hidden[0] out of range"},
      {"kind: DNN optimizer { kind: FTRL }", "optimizer.kind FTRL is not supported for kind DNN"},
      {"kind: DEEPFM optimizer { kind: FTRL }",
       "optimizer.kind FTRL is not supported for kind DEEPFM"},
      {"kind: DEEPFM fm_factors: 4", "fm_factors is for kind FM"},
      {"kind: DEEPFM dnn { batch_size: 0 }", "dnn.batch_size out of range"},
  };
  for (const auto& [text, message] : cases) {
    absl::StatusOr<model::ModelConfig> c = FromText(text);
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_NE(c.status().message().find(message), std::string_view::npos) << c.status();
  }
}

// exploration: greedy when left out; each policy with its parameter, both ways; a
// parameter of another policy, or out of range, refused naming the field.
TEST(ModelConfigProtoTest, ExplorationBothWays) {
  absl::StatusOr<model::ModelConfig> c = FromText("");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->exploration, model::ExplorationConfig());
  EXPECT_EQ(ModelConfigToProto(*c).exploration().policy(), v1::ExplorationConfig::GREEDY);
  EXPECT_FALSE(ModelConfigToProto(*c).exploration().has_epsilon());
  EXPECT_FALSE(ModelConfigToProto(*c).exploration().has_temperature());
  for (const char* text : {"exploration { }", "exploration { policy: GREEDY }"}) {
    c = FromText(text);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->exploration.kind, model::ExplorationKind::kGreedy) << text;
  }
  c = FromText("exploration { policy: EPSILON_GREEDY }");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->exploration.kind, model::ExplorationKind::kEpsilonGreedy);
  EXPECT_EQ(c->exploration.epsilon, 0.1);  // the default
  c = FromText("exploration { policy: SOFTMAX }");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->exploration.temperature, 0.1);  // the default
  const std::pair<const char*, model::ExplorationConfig> cases[] = {
      {"exploration { policy: EPSILON_GREEDY epsilon: 0.05 }",
       {model::ExplorationKind::kEpsilonGreedy, 0.05, 0.1}},
      {"exploration { policy: EPSILON_GREEDY epsilon: 0 }",
       {model::ExplorationKind::kEpsilonGreedy, 0.0, 0.1}},
      {"exploration { policy: SOFTMAX temperature: 0.02 }",
       {model::ExplorationKind::kSoftmax, 0.1, 0.02}},
      {"kind: DNN exploration { policy: SOFTMAX temperature: 2 }",
       {model::ExplorationKind::kSoftmax, 0.1, 2.0}},
  };
  for (const auto& [text, want] : cases) {
    c = FromText(text);
    ASSERT_TRUE(c.ok()) << text << ": " << c.status();
    EXPECT_EQ(c->exploration, want) << text;
    const v1::ModelConfig p = ModelConfigToProto(*c);
    const bool epsilon = want.kind == model::ExplorationKind::kEpsilonGreedy;
    EXPECT_EQ(p.exploration().policy(),
              epsilon ? v1::ExplorationConfig::EPSILON_GREEDY : v1::ExplorationConfig::SOFTMAX);
    EXPECT_EQ(p.exploration().has_epsilon(), epsilon) << text;
    EXPECT_EQ(p.exploration().has_temperature(), !epsilon) << text;
    absl::StatusOr<model::ModelConfig> back = ModelConfigFromProto(p);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->exploration, want) << text;
    EXPECT_EQ(ModelConfigToProto(*back).SerializeAsString(), p.SerializeAsString());
  }
  const std::pair<const char*, const char*> refused[] = {
      {"exploration { epsilon: 0.1 }", "model config: exploration.epsilon is for policy EPSILON_GREEDY"},
      {"exploration { policy: SOFTMAX epsilon: 0.1 }",
       "model config: exploration.epsilon is for policy EPSILON_GREEDY"},
      {"exploration { policy: EPSILON_GREEDY temperature: 1 }",
       "model config: exploration.temperature is for policy SOFTMAX"},
      {"exploration { policy: EPSILON_GREEDY epsilon: 1.5 }",
       "model config: exploration.epsilon: 1.5 is outside [0, 1]"},
      {"exploration { policy: EPSILON_GREEDY epsilon: -0.5 }",
       "model config: exploration.epsilon: -0.5 is outside [0, 1]"},
      {"exploration { policy: SOFTMAX temperature: 0 }",
       "model config: exploration.temperature: 0 is not a finite number > 0"},
      {"exploration { policy: SOFTMAX temperature: -2 }",
       "model config: exploration.temperature: -2 is not a finite number > 0"},
      {"exploration { policy: SOFTMAX temperature: inf }",
       "model config: exploration.temperature: inf is not a finite number > 0"},
      {"exploration { policy: 9 }", "model config: exploration.policy: unknown value 9"},
  };
  for (const auto& [text, message] : refused) {
    c = FromText(text);
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(c.status().message(), message) << text;
  }
}

TEST(ModelConfigProtoTest, ExampleConfigsLoad) {
  for (const char* name : {"dnn.textproto", "dnn_brief.textproto", "deepfm.textproto", "fm.textproto",
                           "logistic_crosses.textproto"}) {
    absl::StatusOr<model::ModelConfig> c =
        LoadModelConfig(std::string(STREAMREC_SOURCE_DIR "/examples/models/") + name);
    EXPECT_TRUE(c.ok()) << name << ": " << c.status();
  }
  absl::StatusOr<model::ModelConfig> brief =
      LoadModelConfig(STREAMREC_SOURCE_DIR "/examples/models/dnn_brief.textproto");
  ASSERT_TRUE(brief.ok());
  EXPECT_EQ(model::DnnInputDim(brief->dnn), 128u);
  EXPECT_EQ(brief->dnn.hidden, (std::vector<uint32_t>{256, 128}));
}

}  // namespace
}  // namespace streamrec::server
