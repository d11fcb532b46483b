#include "model/dense_kernels.h"

#include <cstdint>
#include <cstring>
#include <string_view>

#include <immintrin.h>

namespace streamrec::model {

// Baseline x86-64: SSE2, 4 lanes. Each path: kLanes, the vector type V, Splat (all
// lanes one value) and the tile shape (model/dense_kernels_body.inc): 16 vector registers
// hold RowsFor(N) x N accumulators, the rows of A and the broadcast.
namespace sse2 {
constexpr int kLanes = 4;
typedef float V __attribute__((vector_size(16)));
inline V Splat(float s) { return _mm_set1_ps(s); }
constexpr int kCols = 6;
constexpr int RowsFor(int n) { return n <= 3 ? 4 : 2; }
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
constexpr int kCols = 6;
constexpr int RowsFor(int n) { return n <= 3 ? 4 : 2; }
#include "model/dense_kernels_body.inc"
}  // namespace avx
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

// AVX-512F (and DQ, for 64-bit multiplies in DropoutFill): 16 lanes and 32 vector registers: tiles of 64 rows x 4 columns (measured
// fastest of 2-8 vectors x 3-12 columns by build/bin/gemm_bench on AMD Zen 4, whose
// 512-bit operations take both 256-bit pipes: the gain is fewer instructions per
// product, not wider arithmetic). Multiplies and adds only, as above (each lane rounds as
// SSE2's do).
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq")
#endif
namespace avx512 {
constexpr int kLanes = 16;
typedef float V __attribute__((vector_size(64)));
inline V Splat(float s) { return _mm512_set1_ps(s); }
constexpr int kCols = 4;
constexpr int RowsFor(int) { return 4; }
#include "model/dense_kernels_body.inc"
}  // namespace avx512
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

bool UseAvx512() {
#ifdef STREAMREC_HAVE_AVX_PATH
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
#else
  return false;
#endif
}

bool Avx512() {
  static const bool avx512 = UseAvx512();
  return avx512;
}

}  // namespace

void Gemm(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float* a, ptrdiff_t lda, const float* b,
          ptrdiff_t b_row, ptrdiff_t b_col, float* c, ptrdiff_t ldc) {
#ifdef STREAMREC_HAVE_AVX_PATH
  if (m >= avx512::kLanes && Avx512()) {
    // Rows past the last whole 16 on the 8-lane path, not one by one.
    const ptrdiff_t whole = m - m % avx512::kLanes;
    avx512::Gemm(whole, n, k, a, lda, b, b_row, b_col, c, ldc);
    if (whole < m) avx::Gemm(m - whole, n, k, a + whole, lda, b, b_row, b_col, c + whole, ldc);
    return;
  }
  if (Avx()) return avx::Gemm(m, n, k, a, lda, b, b_row, b_col, c, ldc);
#endif
  sse2::Gemm(m, n, k, a, lda, b, b_row, b_col, c, ldc);
}

bool GemmOnPath(const char* path, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float* a,
                ptrdiff_t lda, const float* b, ptrdiff_t b_row, ptrdiff_t b_col, float* c,
                ptrdiff_t ldc) {
  const std::string_view p = path;
  if (p == "sse2") {
    sse2::Gemm(m, n, k, a, lda, b, b_row, b_col, c, ldc);
    return true;
  }
#ifdef STREAMREC_HAVE_AVX_PATH
  if (p == "avx" && Avx()) {
    avx::Gemm(m, n, k, a, lda, b, b_row, b_col, c, ldc);
    return true;
  }
  if (p == "avx512" && Avx512()) {
    avx512::Gemm(m, n, k, a, lda, b, b_row, b_col, c, ldc);
    return true;
  }
#endif
  return false;
}

void ReluBackward(size_t n, const float* a, const float* below, const float* mask, float* out) {
#ifdef STREAMREC_HAVE_AVX_PATH
  if (Avx512()) return avx512::ReluBackward(n, a, below, mask, out);
  if (Avx()) return avx::ReluBackward(n, a, below, mask, out);
#endif
  sse2::ReluBackward(n, a, below, mask, out);
}

void DropoutFill(uint64_t seed, uint64_t threshold, uint32_t keep_bits, float* out, size_t n) {
#ifdef STREAMREC_HAVE_AVX_PATH
  if (Avx512()) return avx512::DropoutFill(seed, threshold, keep_bits, out, n);
  if (Avx()) return avx::DropoutFill(seed, threshold, keep_bits, out, n);
#endif
  sse2::DropoutFill(seed, threshold, keep_bits, out, n);
}

bool AdamStep(const AdamConstants& k, size_t n, const float* w, const float* g, const float* m0,
              const float* v0, float* w_out, float* m_out, float* v_out) {
#ifdef STREAMREC_HAVE_AVX_PATH
  if (Avx512()) return avx512::AdamStep(k, n, w, g, m0, v0, w_out, m_out, v_out);
  if (Avx()) return avx::AdamStep(k, n, w, g, m0, v0, w_out, m_out, v_out);
#endif
  return sse2::AdamStep(k, n, w, g, m0, v0, w_out, m_out, v_out);
}

const char* GemmPath() { return Avx512() ? "avx512" : Avx() ? "avx" : "sse2"; }

}  // namespace streamrec::model
