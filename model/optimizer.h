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
#ifndef STREAMREC_MODEL_OPTIMIZER_H_
#define STREAMREC_MODEL_OPTIMIZER_H_

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

class Optimizer {
 public:
  // Optimizer keeps state for `size` coordinates.
  Optimizer(const OptimizerConfig& config, size_t size);

  // BeginStep starts the update of one example (advances Adam's step).
  void BeginStep() {
    ++step_;
    UpdateBiasCorrection();
  }
  // Compute proposes the update of coordinate i with current weight w and gradient g.
  CoordUpdate Compute(size_t i, float w, float g, bool regularize) const;
  // Apply writes a proposal made by Compute.
  void Apply(const CoordUpdate& u, ParamTable& weights);

  const OptimizerConfig& config() const { return config_; }
  int slots() const { return static_cast<int>(state_.size()); }
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

 private:
  OptimizerConfig config_;
  // Adam's 1 - beta^t for the current step, computed once per step, not per coordinate.
  void UpdateBiasCorrection();

  std::vector<ParamTable> state_;  // one table per slot
  uint64_t step_ = 0;
  double bias1_ = 1, bias2_ = 1;
};

}  // namespace streamrec::model

#endif  // STREAMREC_MODEL_OPTIMIZER_H_
