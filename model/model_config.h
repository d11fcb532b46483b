// ModelConfig: the model kind, table size and optimizer with every default filled in.
// A plain value; the server converts the protobuf ModelConfig into it once at start.
#ifndef STREAMREC_MODEL_MODEL_CONFIG_H_
#define STREAMREC_MODEL_MODEL_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "model/cross.h"
#include "model/exploration.h"

namespace streamrec::model {

enum class OptimizerKind { kSgd, kAdagrad, kAdam, kFtrl };
enum class ModelKind { kLogisticRegression = 0, kFm = 1, kDnn = 2, kDeepFm = 3 };

// UsesDnnConfig: the kinds built on DnnModel (model/dnn_model.h), configured by DnnConfig
// and trained on mini-batches: kDnn and kDeepFm.
inline bool UsesDnnConfig(ModelKind kind) {
  return kind == ModelKind::kDnn || kind == ModelKind::kDeepFm;
}

// DnnPooling: how the features of one embedded field are combined into its slot.
enum class DnnPooling { kMean = 0, kSum = 1 };

// DnnKernels: the arithmetic a deep model's training uses (its matrix products; the
// parameters, their shapes and the rules are the same). The trained bits depend on it, so
// a data dir keeps the one it was created with (CheckCompatible):
//   kEigen: Eigen's products, the arithmetic of every build before the setting existed;
//     a data dir whose stored config predates it (formats 1 to 5) resumes with it, so it
//     keeps replaying bit for bit.
//   kOrdered: model/dense_kernels.h (each sum in order, no FMA, SSE2 or AVX at run time:
//     the same bits on every x86-64), an event's scoring batched at its batch's end. The
//     default for new data dirs: about twice as fast (README "Speed").
enum class DnnKernels { kEigen = 0, kOrdered = 1 };
// DnnKernelsName: "EIGEN" or "ORDERED" (the proto's names).
const char* DnnKernelsName(DnnKernels kernels);

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
  // False when a config file left `normalized` out: an existing data dir's stored
  // setting then wins (its tables depend on it), so a config written before the option
  // existed still resumes the data dir it made. Not persisted.
  bool normalized_explicit = true;
};

// DnnDenseField: a field fed raw into the DNN's first layer, `dim` components (a vector
// field of that dimension, or a number field with dim 1).
struct DnnDenseField {
  std::string name;
  uint32_t dim = 1;
  bool operator==(const DnnDenseField&) const = default;
};

// DnnConfig: the deep click model (kind kDnn, model/dnn_model.h), and the embeddings and
// deep part of DeepFM (kind kDeepFm: the same fields, plus a linear part and the FM term
// over the slots). Shapes (embedding_dim, hidden, fields, dense_fields, other_slot) fix
// the persisted tables; the rest may change.
struct DnnConfig {
  // Width of every embedding row; 1..256.
  uint32_t embedding_dim = 8;
  // Hidden ReLU layers, input side first; 1..8 layers of 1..4096 units.
  std::vector<uint32_t> hidden = {256, 128};
  // Inverted dropout after every hidden layer while training (off when scoring); [0, 1).
  double dropout = 0.5;
  // Events per mini-batch (one optimizer step each); 1..4096.
  uint32_t batch_size = 256;
  // Global gradient-norm clipping of a batch's gradient; 0 = off.
  double clip_norm = 10.0;
  // Embedded fields, one slot each (pooled embedding rows of their features).
  std::vector<std::string> fields;
  // Fields fed raw into the first layer, placed by dimension.
  std::vector<DnnDenseField> dense_fields;
  // Pooling of an embedded field's features: mean (default) or sum.
  DnnPooling pooling = DnnPooling::kMean;
  // Features of fields in neither list (item_id unless listed, crosses, unknown fields)
  // go to one extra sum-pooled slot; false ignores them (the exact brief model).
  bool other_slot = true;
  // The arithmetic of training (DnnKernels); persisted, fixed for a data dir.
  DnnKernels kernels = DnnKernels::kOrdered;
  // False when a config file left `kernels` out: an existing data dir's stored setting
  // then wins (kEigen for one written before the setting existed), a new data dir gets
  // the default. Not persisted.
  bool kernels_explicit = true;
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
  // Deep model (kinds kDnn and kDeepFm).
  DnnConfig dnn;
  // How Predict draws its ranking from the scores (model/exploration.h); greedy by
  // default. Serving only: it changes nothing that is trained, so a data dir may be
  // resumed with any exploration (CheckCompatible ignores it).
  ExplorationConfig exploration;
};

// DefaultModelConfig: every default for `kind`, including its default optimizer (FTRL
// for the linear models, Adam with learning rate 0.001 for kDnn and kDeepFm).
ModelConfig DefaultModelConfig(ModelKind kind);

// DefaultOptimizerConfig returns the measured defaults for `kind` (README, "Choosing
// the default optimizer").
OptimizerConfig DefaultOptimizerConfig(OptimizerKind kind);
// DefaultOptimizerConfig for a model kind: as above, except Adam's learning rate 0.001
// for kDnn (the product brief's deep model) and kDeepFm.
OptimizerConfig DefaultOptimizerConfig(OptimizerKind kind, ModelKind model);

// ModelMemoryBytes: about how much memory a model of `config` holds once built: its
// parameter tables, their optimizer state (and normalized scales), and the one published
// copy of the parameters that serving reads (the layers of a deep model included). The
// tables are dense arrays over 2^hash_bits rows, allocated at start.
uint64_t ModelMemoryBytes(const ModelConfig& config);

// DnnInputDim: the width of the DNN's first-layer input (slots x embedding_dim + dense).
uint64_t DnnInputDim(const DnnConfig& dnn);
// DnnLayersText: hidden sizes as "256,128" (messages, the CLI).
std::string DnnLayersText(const std::vector<uint32_t>& hidden);

// Validate returns InvalidArgument naming the first field out of range.
absl::Status Validate(const ModelConfig& config);

std::string OptimizerName(OptimizerKind kind);
// ModelKindName: "logistic regression", "factorization machine", "deep neural network",
// "DeepFM".
std::string ModelKindName(ModelKind kind);

}  // namespace streamrec::model

#endif  // STREAMREC_MODEL_MODEL_CONFIG_H_
