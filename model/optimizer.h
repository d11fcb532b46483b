// Per-coordinate optimizers (SGD, Adagrad, Adam, FTRL-Proximal) over a ParamTable of
// weights. The optimizer owns its state (accumulators, moments, FTRL z/n): training
// state that is never published to serving. Thread-compatible: the updater's.
//
// An update is two-phase so a step that would make any weight or state non-finite is
// dropped whole: Compute() proposes new values for one coordinate without writing,
// Apply() writes them. Gradients of one example must be summed per coordinate first.
//
// Update rules (g = gradient, lr = learning_rate, all per coordinate):
//   SGD      w -= lr * (g + l2 * w)
//   Adagrad  n += g'^2;  w -= lr * g' / (sqrt(n) + eps),  g' = g + l2 * w,
//            n starts at initial_accumulator
//   Adam     g' = g + l2 * w; m = b1 m + (1-b1) g'; v = b2 v + (1-b2) g'^2;
//            w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps), t = global step
//            (lazy Adam: only coordinates present in the example move)
//   FTRL     sigma = (sqrt(n + g^2) - sqrt(n)) / lr; z += g - sigma * w; n += g^2;
//            w = |z| <= l1 ? 0 : -(z - sign(z) l1) / ((ftrl_beta + sqrt(n)) / lr + l2)
// Regularization (l1, l2) is not applied to the bias coordinate.
//
// Normalized (config.normalized): BeginExample first raises each present coordinate's
// scale s_i to max(s_i, |x_i|) (an extra state table, kept with the slots), then the
// rules above run in normalized coordinates: g' = g / s_i, w' = w * s_i, with
// lr' = lr / sqrt(max(1, sum_i (x_i / s_i)^2)) for this event, and the stored weight is
// w'_new / s_i. A feature's unit then never changes what one step does to the score, and
// an event with n features moves the score sqrt(n) times as far as one feature
// would (not n times).
#ifndef STREAMREC_MODEL_OPTIMIZER_H_
#define STREAMREC_MODEL_OPTIMIZER_H_

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/model_config.h"
#include "model/param_table.h"

namespace streamrec::model {

// CoordUpdate is a proposed new weight and optimizer state for one coordinate.
struct CoordUpdate {
  size_t index = 0;
  float weight = 0;
  float s0 = 0;
  float s1 = 0;
  bool Finite() const;
};

// OptimizerSlots: the state tables `kind` keeps per parameter (SGD 0, Adagrad 1, Adam 2,
// FTRL 2), not counting the normalized update's scale table.
int OptimizerSlots(OptimizerKind kind);

class Optimizer {
 public:
  // Optimizer keeps state for `size` coordinates. A normalized optimizer keeps a scale
  // per coordinate, unless `leader` is given: then coordinate i takes the scale of
  // leader's coordinate i / per_row (an FM's factors take their row's scale) and each
  // event the leader's step (call Follow instead of BeginExample).
  Optimizer(const OptimizerConfig& config, size_t size, const Optimizer* leader = nullptr,
            size_t per_row = 1);

  // BeginStep starts the update of one example (advances Adam's step); for a normalized
  // optimizer use BeginExample.
  void BeginStep() {
    ++step_;
    UpdateBiasCorrection();
  }
  // BeginExample: BeginStep, and for a normalized optimizer, raises the scales of the
  // example's coordinates (`.row`, `.value`; rows distinct), plus `extra_row` with value
  // 1 when given (a bias kept apart from the coordinates), and sets the event's step.
  template <typename Coords>
  void BeginExample(const Coords& coords, size_t extra_row = SIZE_MAX) {
    BeginStep();
    if (!config_.normalized) return;
    double norm = 0;
    if (extra_row != SIZE_MAX) {
      if (scale_.Get(extra_row) < 1.0f) scale_.Set(extra_row, 1.0f);
      const double x = 1.0 / scale_.Get(extra_row);
      norm += x * x;
    }
    for (const auto& c : coords) {
      const float a = std::abs(c.value);
      float s = scale_.Get(c.row);
      if (a > s) scale_.Set(c.row, s = a);
      if (s > 0) norm += (double{c.value} / s) * (double{c.value} / s);
    }
    rate_ = config_.learning_rate / std::sqrt(std::max(1.0, norm));
  }
  // Compute proposes the update of coordinate i with current weight w and gradient g.
  CoordUpdate Compute(size_t i, float w, float g, bool regularize) const;
  // Apply writes a proposal made by Compute.
  void Apply(const CoordUpdate& u, ParamTable& weights);
  // ComputeDense proposes the update of every coordinate i in [0, n) of a dense table at
  // once, exactly as Compute(i, w[i], float(g[i] * scale), regularize) would, into
  // w_out[i] and the slots' s0_out[i], s1_out[i] (those of slots the optimizer does not
  // have are left alone); false when a scaled gradient or any proposed value is not
  // finite. Adam without normalization is one vectorized pass; the rest go coordinate by
  // coordinate.
  bool ComputeDense(const float* w, const float* g, double scale, bool regularize, size_t n,
                    float* w_out, float* s0_out, float* s1_out) const;
  // ApplyDense writes the slots proposed by ComputeDense for coordinates [0, n) (the
  // caller writes the weights, which it may store relative to a start).
  void ApplyDenseSlots(const float* s0, const float* s1, size_t n);

  const OptimizerConfig& config() const { return config_; }
  int slots() const { return static_cast<int>(state_.size()); }
  // Prefetch: the slots of coordinate i into the cache, ahead of Compute (a hint).
  void Prefetch(size_t i) const {
    for (const ParamTable& t : state_) t.Prefetch(i);
  }
  uint64_t step() const { return step_; }
  void set_step(uint64_t step) {
    step_ = step;
    UpdateBiasCorrection();
  }
  // State returns slot s of coordinate i (for tests).
  float State(size_t i, int s) const { return state_[s].Get(i); }
  // slot_table returns the state of slot s, one float per coordinate (persistence).
  ParamTable& slot_table(int s) { return state_[s]; }
  // SlotMin: the least valid value of slot s (0 for sums of squared gradients: Adagrad's
  // n, Adam's v, FTRL's n; -infinity otherwise).
  float SlotMin(int s) const;
  // Follow: BeginStep, and for a normalized optimizer with a leader, this event's step
  // is the leader's, times the ratio of the two learning rates (call after the leader's
  // BeginExample).
  void Follow() {
    BeginStep();
    if (leader_ != nullptr) {
      rate_ = leader_->rate_ * (config_.learning_rate / leader_->config_.learning_rate);
    }
  }
  // scale_table: the normalized optimizer's per-coordinate scales (persisted; empty
  // when not normalized).
  ParamTable& scale_table() { return scale_; }
  float scale(size_t i) const { return scale_.Get(i); }
  size_t scale_dirty_chunks() const { return scale_.dirty_chunks(); }

 private:
  // ComputeRaw: the rules with learning rate `lr`, in the coordinates given.
  CoordUpdate ComputeRaw(size_t i, double w, double g, bool regularize, double lr) const;

  OptimizerConfig config_;
  // Adam's 1 - beta^t for the current step, computed once per step, not per coordinate.
  void UpdateBiasCorrection();

  std::vector<ParamTable> state_;  // one table per slot
  ParamTable scale_;               // normalized: max |x| per coordinate
  const Optimizer* leader_;        // normalized: whose scales and step to use
  size_t per_row_;
  double rate_ = 0;                // normalized: this example's learning rate
  uint64_t step_ = 0;
  double bias1_ = 1, bias2_ = 1;
};

}  // namespace streamrec::model

#endif  // STREAMREC_MODEL_OPTIMIZER_H_
