// Dense layers of the deep model (model/dnn_model.h): a multilayer perceptron of float
// Eigen matrices, input -> [Dense ReLU Dropout] x H -> Dense 1 (the logit), evaluated on
// a batch at once (events as columns, one matrix product per layer), its backward pass,
// the deterministic initialization and the deterministic dropout masks. Pure functions
// over plain values; thread-compatible (an Mlp that nobody writes may be read by any
// number of threads, as DnnSnapshot does).
#ifndef STREAMREC_MODEL_DENSE_LAYERS_H_
#define STREAMREC_MODEL_DENSE_LAYERS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "model/model_config.h"

namespace streamrec::model {

// Mlp: layer l maps w[l].cols() inputs to w[l].rows() outputs; every layer but the last
// is followed by ReLU (and, in training, dropout); the last has one output, the logit.
struct Mlp {
  std::vector<Eigen::MatrixXf> w;
  std::vector<Eigen::VectorXf> b;
  size_t layers() const { return w.size(); }
  size_t parameters() const;
};

// MlpShapes: the (outputs, inputs) of each layer for `input` inputs and `hidden` units.
std::vector<std::pair<size_t, size_t>> MlpShapes(size_t input, const std::vector<uint32_t>& hidden);

// DenseInit: the starting value of weight `index` (column-major) of layer `layer`,
// Glorot-uniform (Keras' default for Dense): uniform in +-sqrt(6 / (fan_in + fan_out)),
// from a fixed hash of (layer, index), so every build and every restart starts alike.
// Biases start at 0.
float DenseInit(uint32_t layer, uint64_t index, size_t fan_in, size_t fan_out);

// EmbeddingInit: the starting value of float `index` (row * dim + d) of the embedding
// table: uniform in +-0.05 (Keras' default for Embedding), from a fixed hash of index.
float EmbeddingInit(uint64_t index);

// DropoutMask fills out[0..n) with the inverted-dropout factors of hidden layer `layer`
// for the event at stream position `position` (events trained before it): 0 with
// probability `rate`, else 1 / (1 - rate). Seeded by XXH3 of (position, layer), so a
// replay from any batch boundary draws the same masks.
void DropoutMask(uint64_t position, uint32_t layer, float rate, float* out, size_t n);

// MlpActivations: what the backward pass needs from the forward pass, and scratch the
// passes reuse from one batch to the next.
struct MlpActivations {
  // a[0] is the input; a[l + 1] the output of layer l (after ReLU and dropout for the
  // hidden layers; the logits, 1 x batch, for the last).
  std::vector<Eigen::MatrixXf> a;
  // mask[l]: hidden layer l's dropout factors (rows x batch); empty when no dropout.
  std::vector<Eigen::MatrixXf> mask;
  // Scratch of MlpBackward (kOrdered), per layer: the transposed weights,
  // dL/d(pre-activation) and dL/da.
  std::vector<Eigen::MatrixXf> wt, delta, below;
  Eigen::MatrixXf gwt;  // the first layer's weight gradient, transposed
};

// The passes take the training arithmetic (DnnKernels, model/model_config.h): kEigen
// computes with Eigen's products, exactly as every build before the setting did; kOrdered
// with Gemm (model/dense_kernels.h): the same bits on every x86-64, and an event alone
// (MlpScore) gives what its column of a batch does. Both compute the same functions; the
// bits differ.

// MlpForward: act.a[0] must hold the input (inputs x batch); fills the rest. Applies
// act.mask[l] after hidden layer l when act.mask is not empty. kOrdered only: when
// `first` is not null it is the first layer's pre-activations (w[0] a[0] + b[0], outputs
// x batch, as MlpScore leaves them), which are then not recomputed: they are taken
// (swapped into act.a[1]), *first keeping its shape with unspecified contents.
void MlpForward(const Mlp& mlp, MlpActivations& act, DnnKernels kernels,
                Eigen::MatrixXf* first = nullptr);

// MlpScore (kOrdered): the logit of one input column x, no dropout; the first layer's
// pre-activations go to first[0..w[0].rows()) and `scratch` is reused.
float MlpScore(const Mlp& mlp, const float* x, float* first, std::vector<float>& scratch);

// MlpScoreEigen (kEigen): the logit of one input column x, no dropout.
float MlpScoreEigen(const Mlp& mlp, const Eigen::Ref<const Eigen::VectorXf>& x);

// MlpLogitsFromFirst: the logits given the first layer's pre-activations z0 (w[0] x +
// b[0], outputs x batch), which DnnSnapshot computes in two parts. No dropout. z0 is
// overwritten.
Eigen::RowVectorXf MlpLogitsFromFirst(const Mlp& mlp, Eigen::MatrixXf& z0);

// MlpBackward: from dL/dlogit (1 x batch), the gradients of every weight and bias into
// `grad` (resized like mlp) and, when dx is not null, of the first `dx_rows` inputs into
// *dx (dx_rows x batch; the inputs that have parameters below them, the embeddings).
void MlpBackward(const Mlp& mlp, MlpActivations& act, DnnKernels kernels,
                 const Eigen::RowVectorXf& dlogit, Mlp& grad, Eigen::MatrixXf* dx,
                 Eigen::Index dx_rows);

}  // namespace streamrec::model

#endif  // STREAMREC_MODEL_DENSE_LAYERS_H_
