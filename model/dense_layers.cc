#include "model/dense_layers.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/dense_kernels.h"
#include "xxhash.h"

namespace streamrec::model {
namespace {

uint64_t SplitMix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Uniform in [0, 1) from the top 53 bits.
double Unit(uint64_t z) { return static_cast<double>(z >> 11) * 0x1.0p-53; }

constexpr uint64_t kDenseSalt = 0x64656e73652d696eull;      // "dense-in"
constexpr uint64_t kEmbeddingSalt = 0x656d6265642d696eull;  // "embed-in"
constexpr uint64_t kDropoutSeed = 0x64726f706f757421ull;    // "dropout!"

}  // namespace

size_t Mlp::parameters() const {
  size_t n = 0;
  for (size_t l = 0; l < w.size(); ++l) n += w[l].size() + b[l].size();
  return n;
}

std::vector<std::pair<size_t, size_t>> MlpShapes(size_t input,
                                                 const std::vector<uint32_t>& hidden) {
  std::vector<std::pair<size_t, size_t>> shapes;
  size_t in = input;
  for (uint32_t h : hidden) {
    shapes.push_back({h, in});
    in = h;
  }
  shapes.push_back({1, in});
  return shapes;
}

float DenseInit(uint32_t layer, uint64_t index, size_t fan_in, size_t fan_out) {
  const double limit = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  const uint64_t z = SplitMix64(SplitMix64(kDenseSalt ^ layer) ^ index);
  return static_cast<float>((2 * Unit(z) - 1) * limit);
}

float EmbeddingInit(uint64_t index) {
  const uint64_t z = SplitMix64(kEmbeddingSalt ^ index);
  return static_cast<float>((2 * Unit(z) - 1) * 0.05);
}

void DropoutMask(uint64_t position, uint32_t layer, float rate, float* out, size_t n) {
  if (rate <= 0) {
    for (size_t j = 0; j < n; ++j) out[j] = 1.0f;
    return;
  }
  unsigned char key[12];
  for (int i = 0; i < 8; ++i) key[i] = static_cast<unsigned char>(position >> (8 * i));
  for (int i = 0; i < 4; ++i) key[8 + i] = static_cast<unsigned char>(layer >> (8 * i));
  const uint64_t seed = XXH3_64bits_withSeed(key, sizeof key, kDropoutSeed);
  const float keep = 1.0f / (1.0f - rate);
  // Unit(z) < rate, in integers: Unit(z) is (z >> 11) 2^-53 exactly, so it is below rate
  // iff the integer z >> 11 is below rate 2^53, i.e. below its ceiling.
  const double bound = std::ceil(static_cast<double>(rate) * 0x1.0p53);
  if (bound > 0x1.0p53) {  // rate >= 1 (refused by Validate): everything dropped
    for (size_t j = 0; j < n; ++j) out[j] = 0.0f;
    return;
  }
  uint32_t keep_bits;
  std::memcpy(&keep_bits, &keep, sizeof keep_bits);
  DropoutFill(seed, static_cast<uint64_t>(bound), keep_bits, out, n);
}

namespace {

// kEigen: the products and elementwise steps exactly as earlier builds ran them.
void ForwardEigen(const Mlp& mlp, MlpActivations& act) {
  const size_t layers = mlp.layers();
  for (size_t l = 0; l < layers; ++l) {
    Eigen::MatrixXf& out = act.a[l + 1];
    out.noalias() = mlp.w[l] * act.a[l];
    out.colwise() += mlp.b[l];
    if (l + 1 < layers) {
      out = out.cwiseMax(0.0f);
      if (!act.mask.empty()) out.array() *= act.mask[l].array();
    }
  }
}

// out (rows of w x columns of in) = w in; skipping in's zeros when it is a hidden layer's
// output (ReLU and dropout zero most of it), the same bits either way.
void Product(const Eigen::MatrixXf& w, const Eigen::MatrixXf& in, Eigen::MatrixXf& out,
             bool sparse) {
  out.resize(w.rows(), in.cols());
  (sparse ? GemmSkipZeros : Gemm)(w.rows(), in.cols(), w.cols(), w.data(), w.rows(), in.data(),
                                  1, in.rows(), out.data(), out.rows());
}

void ForwardOrdered(const Mlp& mlp, MlpActivations& act, Eigen::MatrixXf* first) {
  const size_t layers = mlp.layers();
  for (size_t l = 0; l < layers; ++l) {
    Eigen::MatrixXf& out = act.a[l + 1];
    const bool hidden = l + 1 < layers;
    const bool reuse = l == 0 && first != nullptr;
    if (reuse) {
      out.swap(*first);  // its bias is in
      first->resize(out.rows(), out.cols());
    } else {
      Product(mlp.w[l], act.a[l], out, l > 0);
    }
    // One pass: + bias, ReLU, dropout (each element's operations in that order).
    auto z = out.array();
    auto b = mlp.b[l].array();
    if (!hidden) {
      if (!reuse) z.colwise() += b;
    } else if (act.mask.empty()) {
      if (reuse) {
        z = z.cwiseMax(0.0f);
      } else {
        z = (z.colwise() + b).cwiseMax(0.0f);
      }
    } else {
      const auto m = act.mask[l].array();
      if (reuse) {
        z = z.cwiseMax(0.0f) * m;
      } else {
        z = (z.colwise() + b).cwiseMax(0.0f) * m;
      }
    }
  }
}

}  // namespace

void MlpForward(const Mlp& mlp, MlpActivations& act, DnnKernels kernels,
                Eigen::MatrixXf* first) {
  act.a.resize(mlp.layers() + 1);
  if (kernels == DnnKernels::kEigen) {
    ForwardEigen(mlp, act);
  } else {
    ForwardOrdered(mlp, act, first);
  }
}

float MlpScore(const Mlp& mlp, const float* x, float* first, std::vector<float>& scratch) {
  const size_t layers = mlp.layers();
  Eigen::Index widest = 0;
  for (size_t l = 0; l < layers; ++l) widest = std::max(widest, mlp.w[l].rows());
  scratch.resize(2 * static_cast<size_t>(widest));
  float* const buf[2] = {scratch.data(), scratch.data() + widest};
  // Layer l >= 1 writes buf[l % 2] and reads the other; layer 0 writes `first`, whose
  // ReLU goes to buf[0].
  const float* in = x;
  for (size_t l = 0;; ++l) {
    const Eigen::MatrixXf& w = mlp.w[l];
    float* z = l == 0 ? first : buf[l % 2];
    Gemm(w.rows(), 1, w.cols(), w.data(), w.rows(), in, 1, w.cols(), z, w.rows());
    Eigen::Map<Eigen::VectorXf> zv(z, w.rows());
    zv += mlp.b[l];
    if (l + 1 == layers) return z[0];
    float* a = l == 0 ? buf[0] : z;
    Eigen::Map<Eigen::VectorXf>(a, w.rows()) = zv.cwiseMax(0.0f);
    in = a;
  }
}

float MlpScoreEigen(const Mlp& mlp, const Eigen::Ref<const Eigen::VectorXf>& x) {
  Eigen::VectorXf a = x;
  for (size_t l = 0; l < mlp.layers(); ++l) {
    Eigen::VectorXf z = mlp.w[l] * a + mlp.b[l];
    if (l + 1 < mlp.layers()) z = z.cwiseMax(0.0f);
    a.swap(z);
  }
  return a[0];
}

Eigen::RowVectorXf MlpLogitsFromFirst(const Mlp& mlp, Eigen::MatrixXf& z0) {
  const size_t layers = mlp.layers();
  if (layers == 1) return z0;
  Eigen::MatrixXf a = z0.cwiseMax(0.0f);
  for (size_t l = 1; l < layers; ++l) {
    Eigen::MatrixXf out = mlp.w[l] * a;
    out.colwise() += mlp.b[l];
    if (l + 1 < layers) out = out.cwiseMax(0.0f);
    a.swap(out);
  }
  return a;
}

namespace {

void BackwardEigen(const Mlp& mlp, const MlpActivations& act, const Eigen::RowVectorXf& dlogit,
                   Mlp& grad, Eigen::MatrixXf* dx, Eigen::Index dx_rows) {
  const size_t layers = mlp.layers();
  Eigen::MatrixXf delta = dlogit;  // dL/d(pre-activation) of layer l
  for (size_t l = layers; l-- > 0;) {
    grad.w[l].noalias() = delta * act.a[l].transpose();
    grad.b[l] = delta.rowwise().sum();
    if (l == 0) {
      if (dx != nullptr) {
        dx->noalias() = mlp.w[0].leftCols(dx_rows).transpose() * delta;
      }
      break;
    }
    Eigen::MatrixXf below = mlp.w[l].transpose() * delta;  // dL/da[l]
    // a[l] = relu(z) * mask: the gradient passes where a[l] > 0, times the mask.
    const Eigen::MatrixXf& a = act.a[l];
    if (act.mask.empty()) {
      delta = (a.array() > 0.0f).select(below, 0.0f);
    } else {
      delta = (a.array() > 0.0f).select(below.cwiseProduct(act.mask[l - 1]), 0.0f);
    }
  }
}

void BackwardOrdered(const Mlp& mlp, MlpActivations& act, const Eigen::RowVectorXf& dlogit,
                     Mlp& grad, Eigen::MatrixXf* dx, Eigen::Index dx_rows) {
  const size_t layers = mlp.layers();
  // Scratch of one shape per layer, so no batch reallocates it (a 256 x 256 float matrix
  // is a fresh mmap, page faults included, each time its size changes).
  act.wt.resize(layers);
  act.delta.resize(layers);
  act.below.resize(layers);
  act.delta[layers - 1] = dlogit;  // dL/d(pre-activation) of the output layer
  const Eigen::MatrixXf* delta = &act.delta[layers - 1];
  const Eigen::Index batch = delta->cols();
  for (size_t l = layers; l-- > 0;) {
    const Eigen::MatrixXf& in = act.a[l];
    Eigen::MatrixXf& gw = grad.w[l];
    gw.resize(delta->rows(), in.rows());
    if (l > 0 || l + 1 == layers) {
      // dL/dw = delta in^T, b(p, j) = in(j, p): a hidden layer's output, mostly zeros.
      GemmSkipZeros(delta->rows(), in.rows(), batch, delta->data(), delta->rows(), in.data(),
                    in.rows(), 1, gw.data(), gw.rows());
    } else {
      // The first layer's input is dense but its delta is not (ReLU and dropout above):
      // (dL/dw)^T = in delta^T skips the delta's zeros; every element is the same sum of
      // the same products in the same order (a b = b a exactly), then transposed.
      Eigen::MatrixXf& gwt = act.gwt;
      gwt.resize(in.rows(), delta->rows());
      GemmSkipZeros(in.rows(), delta->rows(), batch, in.data(), in.rows(), delta->data(),
                    delta->rows(), 1, gwt.data(), gwt.rows());
      gw = gwt.transpose();
    }
    grad.b[l] = delta->rowwise().sum();
    if (l == 0 && dx == nullptr) break;
    // dL/da[l] = w^T delta, from a column-major copy of w^T.
    const Eigen::Index rows = l == 0 ? dx_rows : mlp.w[l].cols();
    Eigen::MatrixXf& wt = act.wt[l];
    wt = mlp.w[l].leftCols(rows).transpose();
    Eigen::MatrixXf& out = l == 0 ? *dx : act.below[l];  // dL/da[l]
    out.resize(rows, batch);
    GemmSkipZeros(rows, batch, delta->rows(), wt.data(), wt.rows(), delta->data(), 1,
                  delta->rows(), out.data(), out.rows());
    if (l == 0) break;
    // a[l] = relu(z) * mask: the gradient passes where a[l] > 0, times the mask.
    const Eigen::MatrixXf& a = act.a[l];
    Eigen::MatrixXf& next = act.delta[l - 1];
    next.resize(out.rows(), out.cols());
    ReluBackward(static_cast<size_t>(out.size()), a.data(), out.data(),
                 act.mask.empty() ? nullptr : act.mask[l - 1].data(), next.data());
    delta = &next;
  }
}

}  // namespace

void MlpBackward(const Mlp& mlp, MlpActivations& act, DnnKernels kernels,
                 const Eigen::RowVectorXf& dlogit, Mlp& grad, Eigen::MatrixXf* dx,
                 Eigen::Index dx_rows) {
  grad.w.resize(mlp.layers());
  grad.b.resize(mlp.layers());
  if (kernels == DnnKernels::kEigen) {
    BackwardEigen(mlp, act, dlogit, grad, dx, dx_rows);
  } else {
    BackwardOrdered(mlp, act, dlogit, grad, dx, dx_rows);
  }
}

}  // namespace streamrec::model
