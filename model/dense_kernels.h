// Dense matrix products of the deep model's training (model/dense_layers.h), with
// results that are the same bits on every x86-64 CPU, whichever code path runs:
// every c(i, j) is the sum over p = 0, 1, ..., k - 1, in that order, of a(i, p) b(p, j),
// each product rounded to float and then added (never fused: no FMA), starting from 0.
// The products are vectorized across i (rows of C), never across p, so 4-lane SSE2 and
// 8-lane AVX compute each element with the same operations; AVX is chosen at run time
// when the CPU and OS support it (the shipped build targets baseline x86-64). On AMD Zen,
// whose adders and multipliers are separate pipes, mul + add runs at the rate FMA would.
// A product with n = 1 (one event) gives the same bits as that column of a product over
// a batch, so an event scored alone and in its batch agree exactly.
// Pure functions; thread-safe.
//
// Gemm is the training arithmetic of a deep model whose DnnConfig::kernels is kOrdered
// (model/dense_layers.h), the default for new data dirs. Its sums are in a different
// order from Eigen's products (kEigen, the arithmetic of earlier builds), so the setting
// is persisted and fixed for a data dir: data dirs of earlier builds keep Eigen's and
// replay bit for bit. AdamStep (below) is bit for bit the old rule and is used by both.
#ifndef STREAMREC_MODEL_DENSE_KERNELS_H_
#define STREAMREC_MODEL_DENSE_KERNELS_H_

#include <cstddef>
#include <cstdint>

namespace streamrec::model {

// Gemm: C (m x n, column-major, leading dimension ldc) = A (m x k, column-major, lda) B,
// where b(p, j) is B[p * b_row + j * b_col] (B column-major: b_row = 1, b_col = its
// leading dimension; the transpose of a column-major matrix M: b_row = M's leading
// dimension, b_col = 1). C must not overlap A or B.
void Gemm(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float* a, ptrdiff_t lda, const float* b,
          ptrdiff_t b_row, ptrdiff_t b_col, float* c, ptrdiff_t ldc);

// AdamStep: Adam's proposal for coordinates [0, n) of a dense table, each exactly
//   gs = float(g * scale); gr = gs + l2 w; m = beta1 m0 + (1 - beta1) gr;
//   v = beta2 v0 + (1 - beta2) gr gr; m_out = float(m); v_out = float(v);
//   w_out = float(w - lr (m / bias1) / (sqrt(v / bias2) + epsilon))
// in double (Optimizer::ComputeRaw's operations, in its order; IEEE division and square
// root round alike in every lane). False when any gs, w_out, m_out or v_out is not
// finite (the outputs are then written all the same). The outputs must not overlap the
// inputs.
struct AdamConstants {
  double scale, l2, lr, beta1, beta2, epsilon, bias1, bias2;
};
bool AdamStep(const AdamConstants& k, size_t n, const float* w, const float* g, const float* m0,
              const float* v0, float* w_out, float* m_out, float* v_out);

// GemmSkipZeros: Gemm's result, bit for bit, skipping the products whose b(p, j) is zero
// (ReLU and dropout leave 50-75% of a hidden layer's inputs and gradients zero). Exact
// because a finite a(i, p) times +-0 is +-0, and adding +-0 to a sum that starts at +0
// never changes it (in round-to-nearest a sum of nonzero terms is never -0); so it falls
// back to Gemm when A holds an infinity or NaN, when the thread's MXCSR flushes
// denormals (flush-to-zero or denormals-are-zero, where that argument fails), and when B
// is less than ~40% zeros (the
// lists would cost more than they save). Skips on AVX-512 CPUs; Gemm elsewhere. C must
// not overlap A or B.
void GemmSkipZeros(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float* a, ptrdiff_t lda,
                   const float* b, ptrdiff_t b_row, ptrdiff_t b_col, float* c, ptrdiff_t ldc);

// ReluBackward: the gradient through a = relu(z) * mask (mask null: no dropout):
//   out[i] = a[i] > 0 ? below[i] * mask[i] (or below[i]) : +0.
// Branch-free (a ReLU's sign is a coin flip a branch would mispredict); the same bits as
// that expression on every path. out may be below.
void ReluBackward(size_t n, const float* a, const float* below, const float* mask, float* out);

// DropoutFill: out[j] = keep_bits as a float where SplitMix64(seed + j * 0x9e3779b97f4a7c15)
// >> 11 is at least threshold, else +0, for j in [0, n) (the draws of DropoutMask,
// model/dense_layers.h). Integer arithmetic: the same bits on every path.
void DropoutFill(uint64_t seed, uint64_t threshold, uint32_t keep_bits, float* out, size_t n);

// GemmPath: "avx512", "avx" or "sse2", the widest code path Gemm takes on this CPU (Gemm
// runs products of fewer than 16 rows, and the last rows past a multiple of 16, on the
// 8-lane path).
const char* GemmPath();

// For tests: Gemm on one path ("avx512", "avx" or "sse2"; false, and nothing computed,
// when this CPU lacks it), and the number of paths this CPU has.
bool GemmOnPath(const char* path, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float* a,
                ptrdiff_t lda, const float* b, ptrdiff_t b_row, ptrdiff_t b_col, float* c,
                ptrdiff_t ldc);


}  // namespace streamrec::model

#endif  // STREAMREC_MODEL_DENSE_KERNELS_H_
