// The wide terms DeepFM (ModelConfig kind kDeepFm, model/dnn_model.h) adds to the deep
// model's logit: the FM second-order term over the pooled field embeddings (the slots of
// the DNN's input column) and its gradient. Pure functions over plain floats; thread-safe.
//
//   FmFieldTerm(x) = 1/2 sum_d [(sum_f x_fd)^2 - sum_f x_fd^2] = sum_{f < g} <e_f, e_g>
//
// where x_fd = x[f * dim + d] is component d of slot f's pooled embedding e_f (Guo et al.
// 2017, "DeepFM": the FM component over fields, k = embedding_dim). Sums in double, so
// the trainer and the snapshot, which add the slots in different orders, agree up to
// float rounding of the result.
#ifndef STREAMREC_MODEL_DEEPFM_TERMS_H_
#define STREAMREC_MODEL_DEEPFM_TERMS_H_

#include <cstdint>

namespace streamrec::model {

// FmSums accumulates, per dimension d, S_d = sum_f x_fd and Q_d = sum_f x_fd^2 (dim <= 256).
struct FmSums {
  double s[256] = {};
  double q[256] = {};
  // Add slot embedding e[0..dim).
  void Add(const float* e, uint32_t dim) {
    for (uint32_t d = 0; d < dim; ++d) {
      s[d] += e[d];
      q[d] += double{e[d]} * e[d];
    }
  }
  // Term: 1/2 sum_d (S_d^2 - Q_d).
  double Term(uint32_t dim) const {
    double t = 0;
    for (uint32_t d = 0; d < dim; ++d) t += s[d] * s[d] - q[d];
    return 0.5 * t;
  }
};

// FmFieldTerm: the FM term of the first slots x dim floats of an input column.
inline double FmFieldTerm(const float* x, uint32_t slots, uint32_t dim) {
  FmSums sums;
  for (uint32_t f = 0; f < slots; ++f) sums.Add(x + size_t{f} * dim, dim);
  return sums.Term(dim);
}

// AddFmFieldGradient adds dlogit x d(FmFieldTerm)/dx_fd = dlogit x (S_d - x_fd) to
// dx[f * dim + d] for every slot f.
inline void AddFmFieldGradient(const float* x, uint32_t slots, uint32_t dim, float dlogit,
                               float* dx) {
  double s[256] = {};
  for (uint32_t f = 0; f < slots; ++f) {
    for (uint32_t d = 0; d < dim; ++d) s[d] += x[size_t{f} * dim + d];
  }
  for (uint32_t f = 0; f < slots; ++f) {
    for (uint32_t d = 0; d < dim; ++d) {
      const size_t i = size_t{f} * dim + d;
      dx[i] += static_cast<float>(dlogit * (s[d] - x[i]));
    }
  }
}

}  // namespace streamrec::model

#endif  // STREAMREC_MODEL_DEEPFM_TERMS_H_
