#include "model/optimizer.h"

#include <limits>

#include <cmath>

#include "model/dense_kernels.h"

namespace streamrec::model {
int OptimizerSlots(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::kSgd: return 0;
    case OptimizerKind::kAdagrad: return 1;
    case OptimizerKind::kAdam: return 2;
    case OptimizerKind::kFtrl: return 2;
  }
  return 0;
}

float Optimizer::SlotMin(int s) const {
  const bool squares = (config_.kind == OptimizerKind::kAdagrad && s == 0) ||
                       (config_.kind == OptimizerKind::kAdam && s == 1) ||
                       (config_.kind == OptimizerKind::kFtrl && s == 1);
  return squares ? 0.0f : -std::numeric_limits<float>::infinity();
}

bool CoordUpdate::Finite() const {
  return std::isfinite(weight) && std::isfinite(s0) && std::isfinite(s1);
}

void Optimizer::UpdateBiasCorrection() {
  const double t = static_cast<double>(step_ == 0 ? 1 : step_);
  bias1_ = 1 - std::pow(config_.beta1, t);
  bias2_ = 1 - std::pow(config_.beta2, t);
}

Optimizer::Optimizer(const OptimizerConfig& config, size_t size, const Optimizer* leader,
                     size_t per_row)
    : config_(config),
      scale_(config.normalized && leader == nullptr ? size : 0),
      leader_(config.normalized ? leader : nullptr),
      per_row_(per_row),
      rate_(config.learning_rate) {
  UpdateBiasCorrection();
  for (int s = 0; s < OptimizerSlots(config.kind); ++s) state_.emplace_back(size);
  if (config_.kind == OptimizerKind::kAdagrad) {
    for (size_t i = 0; i < size; ++i) {
      state_[0].Set(i, static_cast<float>(config_.initial_accumulator));
    }
  }
}

CoordUpdate Optimizer::Compute(size_t i, float w, float g, bool regularize) const {
  if (!config_.normalized) return ComputeRaw(i, w, g, regularize, config_.learning_rate);
  const double s = leader_ != nullptr ? leader_->scale_.Get(i / per_row_) : scale_.Get(i);
  if (!(s > 0)) return ComputeRaw(i, w, g, regularize, rate_);  // x was 0: g is 0 too
  CoordUpdate u = ComputeRaw(i, double{w} * s, double{g} / s, regularize, rate_);
  u.weight = static_cast<float>(u.weight / s);
  return u;
}

CoordUpdate Optimizer::ComputeRaw(size_t i, double w, double g, bool regularize,
                                  double lr) const {
  const OptimizerConfig& c = config_;
  const double l1 = regularize ? c.l1 : 0.0;
  const double l2 = regularize ? c.l2 : 0.0;
  CoordUpdate u;
  u.index = i;
  switch (c.kind) {
    case OptimizerKind::kSgd:
      u.weight = static_cast<float>(w - lr * (g + l2 * w));
      break;
    case OptimizerKind::kAdagrad: {
      const double gr = g + l2 * w;
      const double n = state_[0].Get(i) + gr * gr;
      u.s0 = static_cast<float>(n);
      u.weight = static_cast<float>(w - lr * gr / (std::sqrt(n) + c.epsilon));
      break;
    }
    case OptimizerKind::kAdam: {
      const double gr = g + l2 * w;
      const double m = c.beta1 * state_[0].Get(i) + (1 - c.beta1) * gr;
      const double v = c.beta2 * state_[1].Get(i) + (1 - c.beta2) * gr * gr;
      const double mhat = m / bias1_;
      const double vhat = v / bias2_;
      u.s0 = static_cast<float>(m);
      u.s1 = static_cast<float>(v);
      u.weight = static_cast<float>(w - lr * mhat / (std::sqrt(vhat) + c.epsilon));
      break;
    }
    case OptimizerKind::kFtrl: {
      const double z0 = state_[0].Get(i);
      const double n0 = state_[1].Get(i);
      const double n = n0 + g * g;
      const double sigma = (std::sqrt(n) - std::sqrt(n0)) / lr;
      const double z = z0 + g - sigma * w;
      u.s0 = static_cast<float>(z);
      u.s1 = static_cast<float>(n);
      if (std::abs(z) <= l1) {
        u.weight = 0.0f;
      } else {
        const double sign = z < 0 ? -1.0 : 1.0;
        u.weight = static_cast<float>(-(z - sign * l1) /
                                      ((c.ftrl_beta + std::sqrt(n)) / lr + l2));
      }
      break;
    }
  }
  return u;
}

bool Optimizer::ComputeDense(const float* w, const float* g, double scale, bool regularize,
                             size_t n, float* w_out, float* s0_out, float* s1_out) const {
  if (config_.kind != OptimizerKind::kAdam || config_.normalized) {
    for (size_t i = 0; i < n; ++i) {
      const float gf = static_cast<float>(double{g[i]} * scale);
      const CoordUpdate u = Compute(i, w[i], gf, regularize);
      if (!std::isfinite(gf) || !u.Finite()) return false;
      w_out[i] = u.weight;
      if (!state_.empty()) s0_out[i] = u.s0;
      if (state_.size() > 1) s1_out[i] = u.s1;
    }
    return true;
  }
  // Adam, the same operations in the same order as ComputeRaw, vectorized.
  const OptimizerConfig& c = config_;
  const AdamConstants k{scale, regularize ? c.l2 : 0.0, c.learning_rate, c.beta1, c.beta2,
                        c.epsilon, bias1_, bias2_};
  return AdamStep(k, n, w, g, state_[0].values().data(), state_[1].values().data(), w_out, s0_out,
                  s1_out);
}

void Optimizer::ApplyDenseSlots(const float* s0, const float* s1, size_t n) {
  if (state_.size() > 0) state_[0].SetRange(0, s0, n);
  if (state_.size() > 1) state_[1].SetRange(0, s1, n);
}

void Optimizer::Apply(const CoordUpdate& u, ParamTable& weights) {
  if (state_.size() > 0) state_[0].Set(u.index, u.s0);
  if (state_.size() > 1) state_[1].Set(u.index, u.s1);
  weights.Set(u.index, u.weight);
}

}  // namespace streamrec::model
