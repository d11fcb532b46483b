#include "model/dense_layers.h"

#include <cmath>
#include <cstring>

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
  const uint64_t threshold = static_cast<uint64_t>(bound);
  uint32_t keep_bits;
  std::memcpy(&keep_bits, &keep, sizeof keep_bits);
  for (size_t j = 0; j < n; ++j) {
    const uint64_t z = SplitMix64(seed + j * 0x9e3779b97f4a7c15ull) >> 11;
    // Without a branch: half the draws go each way, a branch would mispredict.
    const uint32_t bits = keep_bits & (0u - static_cast<uint32_t>(z >= threshold));
    std::memcpy(out + j, &bits, sizeof bits);
  }
}

void MlpForward(const Mlp& mlp, MlpActivations& act) {
  const size_t layers = mlp.layers();
  act.a.resize(layers + 1);
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

void MlpBackward(const Mlp& mlp, const MlpActivations& act, const Eigen::RowVectorXf& dlogit,
                 Mlp& grad, Eigen::MatrixXf* dx, Eigen::Index dx_rows) {
  const size_t layers = mlp.layers();
  grad.w.resize(layers);
  grad.b.resize(layers);
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

}  // namespace streamrec::model
