// ConfigCodec: every optimizer's config round trips exactly, malformed bytes are
// rejected, and CheckCompatible allows exactly the changes that keep table shapes (the
// exploration policy, serving only, among them).
#include "storage/config_codec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "storage/encoding.h"

namespace streamrec::storage {
namespace {

constexpr model::OptimizerKind kAllOptimizers[] = {
    model::OptimizerKind::kSgd, model::OptimizerKind::kAdagrad, model::OptimizerKind::kAdam,
    model::OptimizerKind::kFtrl};

// A config whose every field differs from the defaults, so a field swapped or dropped
// by the codec cannot go unnoticed.
model::ModelConfig Distinct(model::OptimizerKind kind) {
  model::ModelConfig c;
  c.hash_bits = 17;
  c.optimizer = model::DefaultOptimizerConfig(kind);
  c.optimizer.learning_rate = 0.123;
  c.optimizer.l1 = 0.25;
  c.optimizer.l2 = 1.75;
  c.optimizer.beta1 = 0.85;
  c.optimizer.beta2 = 0.9995;
  c.optimizer.epsilon = 3e-7;
  c.optimizer.ftrl_beta = 0.5;
  c.optimizer.initial_accumulator = 0.01;
  c.crosses = {{{"user", "item_id"}}, {{"user", "genre", "hour"}}, {{"item_id", "*"}}};
  return c;
}

void ExpectSame(const model::ModelConfig& a, const model::ModelConfig& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.hash_bits, b.hash_bits);
  EXPECT_EQ(a.optimizer.kind, b.optimizer.kind);
  EXPECT_EQ(a.optimizer.learning_rate, b.optimizer.learning_rate);
  EXPECT_EQ(a.optimizer.l1, b.optimizer.l1);
  EXPECT_EQ(a.optimizer.l2, b.optimizer.l2);
  EXPECT_EQ(a.optimizer.beta1, b.optimizer.beta1);
  EXPECT_EQ(a.optimizer.beta2, b.optimizer.beta2);
  EXPECT_EQ(a.optimizer.epsilon, b.optimizer.epsilon);
  EXPECT_EQ(a.optimizer.ftrl_beta, b.optimizer.ftrl_beta);
  EXPECT_EQ(a.optimizer.initial_accumulator, b.optimizer.initial_accumulator);
  EXPECT_EQ(a.optimizer.normalized, b.optimizer.normalized);
  EXPECT_EQ(a.crosses, b.crosses);
  if (model::UsesDnnConfig(a.kind)) {
    EXPECT_EQ(a.dnn.kernels, b.dnn.kernels);
  }
  EXPECT_EQ(a.exploration, b.exploration);
}

TEST(ConfigCodecTest, EveryOptimizerRoundTripsExactly) {
  for (model::OptimizerKind kind : kAllOptimizers) {
    SCOPED_TRACE(model::OptimizerName(kind));
    const model::ModelConfig c = Distinct(kind);
    const std::string bytes = EncodeConfig(c);
    // Format marker and version; kind, hash_bits, optimizer; 8 doubles; 3 crosses of
    // 2, 3 and 2 names (u32 count each, u32 length and bytes each).
    auto name = [](size_t n) { return 4 + n; };
    EXPECT_EQ(bytes.size(), 2 * 4 + 3 * 4 + 8 * 8u + 4 + (4 + name(4) + name(7)) +
                                (4 + name(4) + name(5) + name(4)) + (4 + name(7) + name(1)) +
                                4 + 4);  // fm_factors, normalized
    absl::StatusOr<model::ModelConfig> back = DecodeConfig(bytes);
    ASSERT_TRUE(back.ok()) << back.status();
    ExpectSame(*back, c);
    EXPECT_EQ(EncodeConfig(*back), bytes);
  }
}

// Format 1, written by earlier builds (no marker, no crosses), is still read; a later
// format is refused naming both.
TEST(ConfigCodecTest, FormatOneIsReadAndLaterFormatsRefusedByName) {
  std::string v1;
  PutU32(v1, 0);   // logistic regression
  PutU32(v1, 18);  // hash_bits
  PutU32(v1, 2);   // Adam
  for (double v : {0.01, 0.0, 0.0, 0.9, 0.999, 1e-8, 1.0, 0.1}) PutF64(v1, v);
  absl::StatusOr<model::ModelConfig> c = DecodeConfig(v1);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->hash_bits, 18u);
  EXPECT_EQ(c->optimizer.kind, model::OptimizerKind::kAdam);
  EXPECT_EQ(c->optimizer.learning_rate, 0.01);
  EXPECT_TRUE(c->crosses.empty());
  std::string v3;
  PutU32(v3, 0xffffffffu);
  PutU32(v3, 8);
  absl::Status s = DecodeConfig(v3).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "stored model config has format 8; this build reads formats 1 to 7");
  // A crosses count the bytes cannot hold.
  std::string lying = EncodeConfig(model::ModelConfig());
  lying.resize(lying.size() - 12);  // crosses count, fm_factors, normalized
  PutU32(lying, 1u << 30);
  EXPECT_EQ(DecodeConfig(lying).status().code(), absl::StatusCode::kDataLoss);
}

TEST(ConfigCodecTest, FmFactorsRoundTripAndMustMatch) {
  model::ModelConfig fm = Distinct(model::OptimizerKind::kAdagrad);
  fm.kind = model::ModelKind::kFm;
  fm.fm_factors = 12;
  absl::StatusOr<model::ModelConfig> back = DecodeConfig(EncodeConfig(fm));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->kind, model::ModelKind::kFm);
  EXPECT_EQ(back->fm_factors, 12u);
  model::ModelConfig other = fm;
  other.fm_factors = 4;
  EXPECT_EQ(CheckCompatible(fm, other).code(), absl::StatusCode::kFailedPrecondition);
  model::ModelConfig lr = fm;
  lr.kind = model::ModelKind::kLogisticRegression;
  const absl::Status s = CheckCompatible(fm, lr);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "the data was written by a factorization machine, the config says "
                         "logistic regression");
}

model::ModelConfig DistinctDnn() {
  model::ModelConfig c = Distinct(model::OptimizerKind::kAdam);
  c.kind = model::ModelKind::kDnn;
  c.dnn.embedding_dim = 12;
  c.dnn.hidden = {64, 32, 16};
  c.dnn.dropout = 0.25;
  c.dnn.batch_size = 100;
  c.dnn.clip_norm = 3.5;
  c.dnn.fields = {"user", "item_id"};
  c.dnn.dense_fields = {{"emb", 32}, {"price", 1}};
  c.dnn.pooling = model::DnnPooling::kSum;
  c.dnn.other_slot = false;
  return c;
}

TEST(ConfigCodecTest, DnnRoundTripsExactly) {
  const model::ModelConfig c = DistinctDnn();
  const std::string bytes = EncodeConfig(c);
  absl::StatusOr<model::ModelConfig> back = DecodeConfig(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectSame(*back, c);
  EXPECT_EQ(back->dnn.embedding_dim, 12u);
  EXPECT_EQ(back->dnn.hidden, (std::vector<uint32_t>{64, 32, 16}));
  EXPECT_EQ(back->dnn.dropout, 0.25);
  EXPECT_EQ(back->dnn.batch_size, 100u);
  EXPECT_EQ(back->dnn.clip_norm, 3.5);
  EXPECT_EQ(back->dnn.fields, c.dnn.fields);
  EXPECT_EQ(back->dnn.dense_fields, c.dnn.dense_fields);
  EXPECT_EQ(back->dnn.pooling, model::DnnPooling::kSum);
  EXPECT_FALSE(back->dnn.other_slot);
  EXPECT_EQ(EncodeConfig(*back), bytes);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(DecodeConfig(bytes.substr(0, n)).status().code(), absl::StatusCode::kDataLoss)
        << "length " << n;
  }
  // The defaults too.
  const model::ModelConfig d = model::DefaultModelConfig(model::ModelKind::kDnn);
  back = DecodeConfig(EncodeConfig(d));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->dnn.hidden, d.dnn.hidden);
  EXPECT_TRUE(back->dnn.other_slot);
}

// DeepFM with Eigen's kernels writes the DNN section at format 5 (an earlier build's
// format-4 reader refuses it by its format); a DNN with Eigen's still writes format 4.
TEST(ConfigCodecTest, DeepFmRoundTripsAtFormatFive) {
  model::ModelConfig c = DistinctDnn();
  c.kind = model::ModelKind::kDeepFm;
  c.dnn.kernels = model::DnnKernels::kEigen;
  const std::string bytes = EncodeConfig(c);
  ASSERT_GE(bytes.size(), 8u);
  EXPECT_EQ(bytes.substr(4, 4), std::string("\x05\0\0\0", 4));
  model::ModelConfig dnn_eigen = DistinctDnn();
  dnn_eigen.dnn.kernels = model::DnnKernels::kEigen;
  EXPECT_EQ(EncodeConfig(dnn_eigen).substr(4, 4), std::string("\x04\0\0\0", 4));
  absl::StatusOr<model::ModelConfig> back = DecodeConfig(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectSame(*back, c);
  EXPECT_EQ(back->kind, model::ModelKind::kDeepFm);
  EXPECT_EQ(back->dnn.hidden, c.dnn.hidden);
  EXPECT_EQ(back->dnn.fields, c.dnn.fields);
  EXPECT_EQ(back->dnn.dense_fields, c.dnn.dense_fields);
  EXPECT_EQ(EncodeConfig(*back), bytes);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(DecodeConfig(bytes.substr(0, n)).status().code(), absl::StatusCode::kDataLoss)
        << "length " << n;
  }
  // A DeepFM config at format 4 was never written: refused.
  std::string four = bytes;
  four[4] = 4;
  EXPECT_EQ(DecodeConfig(four).status().code(), absl::StatusCode::kDataLoss);
  // Same shapes resume; a changed shape or the DNN kind is refused naming both sides.
  model::ModelConfig wider = c;
  wider.dnn.hidden = {64, 32, 8};
  EXPECT_TRUE(CheckCompatible(c, c).ok());
  EXPECT_NE(CheckCompatible(c, wider).message().find("dnn.hidden 64,32,16, the config says 64,32,8"),
            std::string_view::npos) << CheckCompatible(c, wider);
  EXPECT_EQ(CheckCompatible(c, DistinctDnn()).message(),
            "the data was written by a DeepFM, the config says deep neural network");
}

// dnn.kernels: kOrdered is written at format 6 (its own word after the DNN section; an
// earlier build refuses the format by number); formats 4 and 5, which earlier builds
// wrote, read as kEigen; a change is refused naming both values.
TEST(ConfigCodecTest, KernelsAtFormatSixEarlierFormatsReadAsEigen) {
  for (model::ModelKind kind : {model::ModelKind::kDnn, model::ModelKind::kDeepFm}) {
    SCOPED_TRACE(model::ModelKindName(kind));
    model::ModelConfig ordered = DistinctDnn();
    ordered.kind = kind;
    ASSERT_EQ(ordered.dnn.kernels, model::DnnKernels::kOrdered);  // the default
    const std::string bytes = EncodeConfig(ordered);
    EXPECT_EQ(bytes.substr(4, 4), std::string("\x06\0\0\0", 4));
    absl::StatusOr<model::ModelConfig> back = DecodeConfig(bytes);
    ASSERT_TRUE(back.ok()) << back.status();
    ExpectSame(*back, ordered);
    EXPECT_EQ(back->dnn.hidden, ordered.dnn.hidden);
    EXPECT_EQ(EncodeConfig(*back), bytes);
    for (size_t n = 0; n < bytes.size(); ++n) {
      EXPECT_EQ(DecodeConfig(bytes.substr(0, n)).status().code(), absl::StatusCode::kDataLoss)
          << "length " << n;
    }
    std::string unknown = bytes;
    unknown[unknown.size() - 4] = 2;  // no such kernels
    EXPECT_EQ(DecodeConfig(unknown).status().code(), absl::StatusCode::kDataLoss);
    // The same config as an earlier build wrote it: its format, no kernels word.
    std::string earlier = bytes.substr(0, bytes.size() - 4);
    earlier[4] = kind == model::ModelKind::kDeepFm ? 5 : 4;
    absl::StatusOr<model::ModelConfig> old = DecodeConfig(earlier);
    ASSERT_TRUE(old.ok()) << old.status();
    EXPECT_EQ(old->dnn.kernels, model::DnnKernels::kEigen);
    EXPECT_EQ(EncodeConfig(*old), earlier);  // Eigen's is still written that way
    EXPECT_EQ(DecodeConfig(earlier + std::string(4, '\0')).status().code(),
              absl::StatusCode::kDataLoss);  // no kernels word before format 6
    // An explicit Eigen at format 6 (never written) reads as Eigen.
    std::string six_eigen = bytes;
    six_eigen[six_eigen.size() - 4] = 0;
    ASSERT_TRUE(DecodeConfig(six_eigen).ok());
    EXPECT_EQ(DecodeConfig(six_eigen)->dnn.kernels, model::DnnKernels::kEigen);
    // Either way round, a change is refused naming both.
    EXPECT_EQ(CheckCompatible(*old, ordered).message(),
              "the data was written with dnn.kernels EIGEN (its training arithmetic; replays "
              "must repeat it), the config says ORDERED: set dnn { kernels: EIGEN } (or "
              "leave kernels out) to resume it");
    EXPECT_EQ(CheckCompatible(ordered, *old).message(),
              "the data was written with dnn.kernels ORDERED (its training arithmetic; "
              "replays must repeat it), the config says EIGEN: set dnn { kernels: ORDERED } "
              "(or leave kernels out) to resume it");
    EXPECT_EQ(CheckCompatible(*old, ordered).code(), absl::StatusCode::kFailedPrecondition);
  }
  // Kinds without a DNN section ignore the setting (format 4 as before).
  model::ModelConfig lr = Distinct(model::OptimizerKind::kFtrl);
  lr.dnn.kernels = model::DnnKernels::kOrdered;
  EXPECT_EQ(EncodeConfig(lr).substr(4, 4), std::string("\x04\0\0\0", 4));
}

// exploration: a config that explores is written at format 7 (the section after
// everything else; an earlier build refuses the format by number), a greedy one in its
// earlier format without the section, byte for byte as before (an earlier build reads
// the data dir); formats 1 to 6 read as greedy; a change of exploration alone resumes.
TEST(ConfigCodecTest, ExplorationAtFormatSevenGreedyKeepsEarlierFormats) {
  model::ModelConfig dnn_eigen = DistinctDnn();
  dnn_eigen.dnn.kernels = model::DnnKernels::kEigen;
  model::ModelConfig deepfm_eigen = dnn_eigen;
  deepfm_eigen.kind = model::ModelKind::kDeepFm;
  model::ModelConfig fm = Distinct(model::OptimizerKind::kAdagrad);
  fm.kind = model::ModelKind::kFm;
  fm.fm_factors = 12;
  const std::pair<model::ModelConfig, char> greedy_cases[] = {
      {Distinct(model::OptimizerKind::kFtrl), 4}, {fm, 4}, {dnn_eigen, 4},
      {deepfm_eigen, 5}, {DistinctDnn(), 6}};
  for (const auto& [greedy, earlier_format] : greedy_cases) {
    SCOPED_TRACE(model::ModelKindName(greedy.kind) + " at format " +
                 std::to_string(earlier_format));
    ASSERT_EQ(greedy.exploration.kind, model::ExplorationKind::kGreedy);
    const std::string earlier = EncodeConfig(greedy);
    EXPECT_EQ(earlier[4], earlier_format);
    // A greedy config's unused parameters change nothing that is written.
    model::ModelConfig greedy_other = greedy;
    greedy_other.exploration.epsilon = 0.7;
    greedy_other.exploration.temperature = 3;
    EXPECT_EQ(EncodeConfig(greedy_other), earlier);
    absl::StatusOr<model::ModelConfig> old = DecodeConfig(earlier);
    ASSERT_TRUE(old.ok()) << old.status();
    EXPECT_EQ(old->exploration, model::ExplorationConfig());  // greedy, the defaults
    for (const model::ExplorationKind kind :
         {model::ExplorationKind::kEpsilonGreedy, model::ExplorationKind::kSoftmax}) {
      model::ModelConfig explores = greedy;
      explores.exploration.kind = kind;
      explores.exploration.epsilon = 0.25;
      explores.exploration.temperature = 0.05;
      const std::string bytes = EncodeConfig(explores);
      EXPECT_EQ(bytes.substr(4, 4), std::string("\x07\0\0\0", 4));
      // Format 6's layout (the kernels word for a DNN or DeepFM, Eigen's too) and the
      // exploration section: u32 kind, f64 epsilon, f64 temperature.
      std::string want = earlier;
      want[4] = 7;
      if (model::UsesDnnConfig(greedy.kind) && earlier_format < 6) {
        PutU32(want, static_cast<uint32_t>(greedy.dnn.kernels));
      }
      PutU32(want, kind == model::ExplorationKind::kSoftmax ? 2 : 1);
      PutF64(want, 0.25);
      PutF64(want, 0.05);
      EXPECT_EQ(bytes, want);
      absl::StatusOr<model::ModelConfig> back = DecodeConfig(bytes);
      ASSERT_TRUE(back.ok()) << back.status();
      ExpectSame(*back, explores);
      EXPECT_EQ(back->dnn.hidden, explores.dnn.hidden);
      EXPECT_EQ(back->fm_factors, explores.fm_factors);
      EXPECT_EQ(EncodeConfig(*back), bytes);
      for (size_t n = 0; n < bytes.size(); ++n) {
        EXPECT_EQ(DecodeConfig(bytes.substr(0, n)).status().code(), absl::StatusCode::kDataLoss)
            << "length " << n;
      }
      EXPECT_EQ(DecodeConfig(bytes + '\0').status().code(), absl::StatusCode::kDataLoss);
      // Exploration is serving only: either way round, a change of it alone resumes.
      EXPECT_TRUE(CheckCompatible(*old, explores).ok());
      EXPECT_TRUE(CheckCompatible(explores, *old).ok());
    }
  }
  // An exploration word beyond softmax, or values out of range, are damage, named.
  model::ModelConfig c = Distinct(model::OptimizerKind::kFtrl);
  c.exploration.kind = model::ExplorationKind::kEpsilonGreedy;
  const std::string bytes = EncodeConfig(c);
  const size_t kind_at = bytes.size() - 20;
  std::string unknown = bytes;
  unknown[kind_at] = 3;
  EXPECT_EQ(DecodeConfig(unknown).status().code(), absl::StatusCode::kDataLoss);
  std::string far = bytes.substr(0, kind_at + 4);
  PutF64(far, 1.5);  // epsilon
  PutF64(far, 0.1);
  EXPECT_EQ(DecodeConfig(far).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeConfig(far).status().message(),
            "stored model config: exploration.epsilon: 1.5 is outside [0, 1]");
  std::string cold = bytes.substr(0, kind_at + 12);
  PutF64(cold, 0.0);  // temperature
  EXPECT_EQ(DecodeConfig(cold).status().code(), absl::StatusCode::kDataLoss);
  // A greedy config at format 7 (never written) reads as greedy, with its parameters.
  std::string seven_greedy = bytes;
  seven_greedy[kind_at] = 0;
  ASSERT_TRUE(DecodeConfig(seven_greedy).ok());
  EXPECT_EQ(DecodeConfig(seven_greedy)->exploration.kind, model::ExplorationKind::kGreedy);
}

TEST(ConfigCodecTest, DnnShapesMustMatchTrainingMayChange) {
  const model::ModelConfig stored = DistinctDnn();
  model::ModelConfig current = stored;
  current.dnn.dropout = 0;
  current.dnn.batch_size = 7;
  current.dnn.clip_norm = 0;
  current.dnn.pooling = model::DnnPooling::kMean;
  EXPECT_TRUE(CheckCompatible(stored, current).ok());
  struct Case {
    void (*edit)(model::DnnConfig&);
    const char* message;
  };
  const Case cases[] = {
      {[](model::DnnConfig& d) { d.embedding_dim = 8; },
       "the data was written with dnn.embedding_dim 12, the config says 8"},
      {[](model::DnnConfig& d) { d.hidden = {64, 32}; },
       "the data was written with dnn.hidden 64,32,16, the config says 64,32"},
      {[](model::DnnConfig& d) { d.fields = {"item_id", "user"}; },
       "the data was written with dnn.fields user,item_id, the config says item_id,user"},
      {[](model::DnnConfig& d) { d.dense_fields = {{"emb", 16}}; },
       "the data was written with dnn.dense_fields emb:32,price:1, the config says emb:16"},
      {[](model::DnnConfig& d) { d.other_slot = true; },
       "the data was written with dnn.other_slot false, the config says true"},
  };
  for (const Case& k : cases) {
    model::ModelConfig changed = stored;
    k.edit(changed.dnn);
    const absl::Status s = CheckCompatible(stored, changed);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(s.message(), k.message);
  }
  model::ModelConfig fm = stored;
  fm.kind = model::ModelKind::kFm;
  EXPECT_EQ(CheckCompatible(stored, fm).message(),
            "the data was written by a deep neural network, the config says factorization "
            "machine");
}

TEST(ConfigCodecTest, CrossesMayChange) {
  model::ModelConfig a = Distinct(model::OptimizerKind::kFtrl);
  model::ModelConfig b = a;
  b.crosses.clear();
  EXPECT_TRUE(CheckCompatible(a, b).ok());
}

TEST(ConfigCodecTest, DefaultsRoundTrip) {
  const model::ModelConfig c;
  absl::StatusOr<model::ModelConfig> back = DecodeConfig(EncodeConfig(c));
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectSame(*back, c);
}

TEST(ConfigCodecTest, TruncatedOrExtendedInputIsRejected) {
  const std::string bytes = EncodeConfig(Distinct(model::OptimizerKind::kAdam));
  for (size_t n = 0; n < bytes.size(); ++n) {
    absl::StatusOr<model::ModelConfig> c = DecodeConfig(bytes.substr(0, n));
    EXPECT_EQ(c.status().code(), absl::StatusCode::kDataLoss) << "length " << n;
  }
  EXPECT_EQ(DecodeConfig(bytes + '\0').status().code(), absl::StatusCode::kDataLoss);
}

TEST(ConfigCodecTest, UnknownKindsAreRejected) {
  auto with = [](uint32_t model_kind, uint32_t optimizer_kind) {
    std::string out;
    PutU32(out, model_kind);
    PutU32(out, 20);
    PutU32(out, optimizer_kind);
    for (int i = 0; i < 8; ++i) PutF64(out, 0.5);
    return DecodeConfig(out);
  };
  EXPECT_TRUE(with(0, 3).ok());
  EXPECT_TRUE(with(1, 3).ok());                                          // FM
  EXPECT_EQ(with(2, 3).status().code(), absl::StatusCode::kDataLoss);   // a DNN needs format 4
  EXPECT_EQ(with(3, 3).status().code(), absl::StatusCode::kDataLoss);   // DeepFM needs format 5
  EXPECT_EQ(with(4, 3).status().code(), absl::StatusCode::kDataLoss);   // no model kind 4
  EXPECT_NE(with(4, 3).status().message().find("model kind 4, which this build does not know"),
            std::string_view::npos);
  EXPECT_NE(with(0, 4).status().message().find("optimizer 4, which this build does not know"),
            std::string_view::npos);
  EXPECT_EQ(with(0, 4).status().code(), absl::StatusCode::kDataLoss);   // no optimizer 4
  EXPECT_EQ(with(0, ~0u).status().code(), absl::StatusCode::kDataLoss);
}

TEST(ConfigCodecTest, HyperparametersMayChange) {
  for (model::OptimizerKind kind : kAllOptimizers) {
    model::ModelConfig stored = Distinct(kind);
    model::ModelConfig current = stored;
    current.optimizer.learning_rate *= 2;
    current.optimizer.l1 = 0;
    current.optimizer.l2 = 3;
    current.optimizer.beta1 = 0.5;
    current.optimizer.epsilon = 1e-3;
    EXPECT_TRUE(CheckCompatible(stored, current).ok()) << model::OptimizerName(kind);
    EXPECT_TRUE(CheckCompatible(stored, stored).ok());
  }
}

TEST(ConfigCodecTest, HashBitsMustMatch) {
  model::ModelConfig stored, current;
  stored.hash_bits = 20;
  current.hash_bits = 22;
  absl::Status s = CheckCompatible(stored, current);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("hash_bits 20"), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("22"), absl::string_view::npos) << s;
}

TEST(ConfigCodecTest, OptimizerKindMustMatch) {
  for (model::OptimizerKind a : kAllOptimizers) {
    for (model::OptimizerKind b : kAllOptimizers) {
      model::ModelConfig stored, current;
      stored.optimizer = model::DefaultOptimizerConfig(a);
      current.optimizer = model::DefaultOptimizerConfig(b);
      absl::Status s = CheckCompatible(stored, current);
      if (a == b) {
        EXPECT_TRUE(s.ok()) << s;
        continue;
      }
      EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
      // The message names both optimizers, stored first.
      const std::string want = "optimizer " + model::OptimizerName(a) + ", the config says " +
                               model::OptimizerName(b);
      EXPECT_NE(s.message().find(want), absl::string_view::npos) << s;
    }
  }
}

TEST(ConfigCodecTest, ModelKindMustMatch) {
  model::ModelConfig stored, current;
  // A factorization machine's data does not resume as logistic regression.
  stored.kind = static_cast<model::ModelKind>(1);
  EXPECT_EQ(CheckCompatible(stored, current).code(), absl::StatusCode::kFailedPrecondition);
}

// A config stored by an earlier build (format 3) was trained without normalization and
// must resume that way; a change of normalization is refused naming both settings.
TEST(ConfigCodecTest, FormatThreeReadsAsNotNormalizedAndNormalizationMustMatch) {
  model::ModelConfig c;
  ASSERT_TRUE(c.optimizer.normalized);  // today's default
  std::string v3 = EncodeConfig(c);
  v3.resize(v3.size() - 4);             // format 3 ends with fm_factors
  v3[4] = 3;                            // the format word, little-endian
  absl::StatusOr<model::ModelConfig> old = DecodeConfig(v3);
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_FALSE(old->optimizer.normalized);
  EXPECT_EQ(old->optimizer.learning_rate, c.optimizer.learning_rate);
  absl::Status s = CheckCompatible(*old, c);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("optimizer.normalized not normalized (its tables differ), the "
                             "config says normalized"),
            absl::string_view::npos)
      << s;
  EXPECT_NE(s.message().find("normalized: false"), absl::string_view::npos) << s;
  // A normalized word other than 0 or 1 is damage.
  std::string bad = EncodeConfig(c);
  bad[bad.size() - 4] = 2;
  EXPECT_EQ(DecodeConfig(bad).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace streamrec::storage
