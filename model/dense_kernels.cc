#include "model/dense_kernels.h"

#include <cstdint>
#include <cstring>

#include <immintrin.h>

namespace streamrec::model {

// Baseline x86-64: SSE2, 4 lanes. Each path: kLanes, the vector type V and Splat (all
// lanes one value).
namespace sse2 {
constexpr int kLanes = 4;
typedef float V __attribute__((vector_size(16)));
inline V Splat(float s) { return _mm_set1_ps(s); }
#include "model/dense_kernels_body.inc"
}  // namespace sse2

#if defined(__x86_64__) && defined(__GNUC__)
// AVX (not AVX2, not FMA: only 8-lane float mul and add), compiled for it whatever the
// build's baseline, taken only when the CPU has it.
#if defined(__clang__)  // the thread-safety check compiles with clang
#pragma clang attribute push(__attribute__((target("avx"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx")
#endif
namespace avx {
constexpr int kLanes = 8;
typedef float V __attribute__((vector_size(32)));
inline V Splat(float s) { return _mm256_set1_ps(s); }
#include "model/dense_kernels_body.inc"
}  // namespace avx
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#define STREAMREC_HAVE_AVX_PATH 1
#endif

namespace {

using GemmFn = void (*)(ptrdiff_t, ptrdiff_t, ptrdiff_t, const float*, ptrdiff_t, const float*,
                        ptrdiff_t, ptrdiff_t, float*, ptrdiff_t);

bool UseAvx() {
#ifdef STREAMREC_HAVE_AVX_PATH
  // libgcc's check includes the OS saving the AVX registers (XGETBV).
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx");
#else
  return false;
#endif
}

bool Avx() {
  static const bool avx = UseAvx();
  return avx;
}

}  // namespace

void Gemm(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float* a, ptrdiff_t lda, const float* b,
          ptrdiff_t b_row, ptrdiff_t b_col, float* c, ptrdiff_t ldc) {
#ifdef STREAMREC_HAVE_AVX_PATH
  if (Avx()) return avx::Gemm(m, n, k, a, lda, b, b_row, b_col, c, ldc);
#endif
  sse2::Gemm(m, n, k, a, lda, b, b_row, b_col, c, ldc);
}

void GemmSse2(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float* a, ptrdiff_t lda,
              const float* b, ptrdiff_t b_row, ptrdiff_t b_col, float* c, ptrdiff_t ldc) {
  sse2::Gemm(m, n, k, a, lda, b, b_row, b_col, c, ldc);
}

bool AdamStep(const AdamConstants& k, size_t n, const float* w, const float* g, const float* m0,
              const float* v0, float* w_out, float* m_out, float* v_out) {
#ifdef STREAMREC_HAVE_AVX_PATH
  if (Avx()) return avx::AdamStep(k, n, w, g, m0, v0, w_out, m_out, v_out);
#endif
  return sse2::AdamStep(k, n, w, g, m0, v0, w_out, m_out, v_out);
}

const char* GemmPath() { return Avx() ? "avx" : "sse2"; }

}  // namespace streamrec::model
