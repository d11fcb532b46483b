#include "model/dense_kernels.h"

#include <cstdint>
#include <algorithm>
#include <cstring>
#include <string_view>
#include <vector>

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
constexpr ptrdiff_t kSparseBlock = 64;  // positions per block of SparseProduct
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
constexpr ptrdiff_t kSparseBlock = 64;  // positions per block of SparseProduct
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
constexpr ptrdiff_t kSparseBlock = 64;  // the same on every path: they share the lists
#include "model/dense_kernels_body.inc"

// B's nonzeros by column and block of positions, in p order, for SparseProduct; reused by
// the thread.
struct Csc {
  std::vector<uint32_t> starts, idx;
  std::vector<float> val;
};

// ToCsc: the nonzeros of B (b(p, j) at b[p * b_row + j * b_col]), or false once there
// are more than max_nonzeros. 16 at a time (loaded, or gathered when b_row > 1): compare
// with zero (-0 is zero; NaN is not), then compress the values and their positions to
// the front of a register, stored whole (the lists keep 16 entries of slack for it).
bool ToCsc(ptrdiff_t n, ptrdiff_t k, const float* b, ptrdiff_t b_row, ptrdiff_t b_col,
           size_t max_nonzeros, Csc& csc) {
  const ptrdiff_t blocks = (k + kSparseBlock - 1) / kSparseBlock;
  // Grown, never shrunk: products of several shapes share the lists, and a vector grown
  // back after shrinking zero-fills the difference each time.
  const auto grow = [](auto& v, size_t size) {
    if (v.size() < size) v.resize(size);
  };
  grow(csc.starts, static_cast<size_t>(n * (blocks + 1)));
  grow(csc.idx, static_cast<size_t>(n * k) + kLanes);
  grow(csc.val, static_cast<size_t>(n * k) + kLanes);
  uint32_t* idx = csc.idx.data();
  float* val = csc.val.data();
  const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i strides = _mm512_mullo_epi32(lanes, _mm512_set1_epi32(static_cast<int>(b_row)));
  size_t nnz = 0;
  for (ptrdiff_t j = 0; j < n; ++j) {
    const float* col = b + j * b_col;
    uint32_t* starts = csc.starts.data() + j * (blocks + 1);
    for (ptrdiff_t q = 0; q < blocks; ++q) {
      starts[q] = static_cast<uint32_t>(nnz);
      const ptrdiff_t end = std::min(k, (q + 1) * kSparseBlock);
      ptrdiff_t p = q * kSparseBlock;
      for (; p + kLanes <= end; p += kLanes) {
        const __m512 v = b_row == 1 ? _mm512_loadu_ps(col + p)
                                    : _mm512_mask_i32gather_ps(_mm512_setzero_ps(), 0xFFFF, strides,
                                                                col + p * b_row, 4);
        const __mmask16 keep = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NEQ_UQ);
        const __m512i at = _mm512_add_epi32(lanes, _mm512_set1_epi32(static_cast<int>(p)));
        _mm512_storeu_ps(val + nnz, _mm512_maskz_compress_ps(keep, v));
        _mm512_storeu_si512(idx + nnz, _mm512_maskz_compress_epi32(keep, at));
        nnz += static_cast<size_t>(__builtin_popcount(keep));
      }
      for (; p < end; ++p) {
        idx[nnz] = static_cast<uint32_t>(p);
        val[nnz] = col[p * b_row];
        nnz += val[nnz] != 0.0f;  // written always, kept when nonzero
      }
    }
    starts[blocks] = static_cast<uint32_t>(nnz);
    if (nnz > max_nonzeros) return false;
  }
  return true;
}

// AllFinite: no infinity or NaN among A's m x k elements.
bool AllFinite(ptrdiff_t m, ptrdiff_t k, const float* a, ptrdiff_t lda) {
  __m512 bad = _mm512_setzero_ps();  // NaN in a lane once a non-finite element was seen
  uint32_t bad_tail = 0;
  for (ptrdiff_t p = 0; p < k; ++p) {
    const float* col = a + p * lda;
    ptrdiff_t i = 0;
    for (; i + kLanes <= m; i += kLanes) {
      // x * 0 is +-0 for a finite x and NaN otherwise; NaN + anything stays NaN.
      bad = _mm512_add_ps(bad, _mm512_mul_ps(_mm512_loadu_ps(col + i), _mm512_setzero_ps()));
    }
    for (; i < m; ++i) {
      const float zero = col[i] * 0.0f;
      bad_tail |= static_cast<uint32_t>(zero != zero);
    }
  }
  return bad_tail == 0 && _mm512_cmp_ps_mask(bad, bad, _CMP_UNORD_Q) == 0;
}
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

void GemmSkipZeros(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float* a, ptrdiff_t lda,
                   const float* b, ptrdiff_t b_row, ptrdiff_t b_col, float* c, ptrdiff_t ldc) {
#ifdef STREAMREC_HAVE_AVX_PATH
  // The lists are built with AVX-512's compress (and gather, for B's transposed layout).
  // Worth it when at least ~40% of B is zeros. An A with an infinity or NaN (whose
  // products with zero are not zero) takes Gemm, as does every CPU without AVX-512.
  thread_local avx512::Csc csc;
  // And only in IEEE's default mode: with flush-to-zero (or denormals-are-zero), set by
  // code built with -ffast-math, a sum of nonzero terms can be -0, and skipping a +-0
  // product would keep a -0 that Gemm's adding it makes +0.
  constexpr unsigned kFlushToZero = 0x8000, kDenormalsAreZero = 0x40;
  if ((_mm_getcsr() & (kFlushToZero | kDenormalsAreZero)) == 0 && m >= avx512::kLanes && n > 0 && k > 0 && k * b_row < (ptrdiff_t{1} << 31) && Avx512() &&
      avx512::ToCsc(n, k, b, b_row, b_col, static_cast<size_t>(n * k) * 6 / 10, csc) &&
      avx512::AllFinite(m, k, a, lda)) {
    const uint32_t* starts = csc.starts.data();
    const uint32_t* idx = csc.idx.data();
    const float* val = csc.val.data();
    const ptrdiff_t whole = m - m % avx512::kLanes;
    avx512::SparseProduct(whole, n, k, a, lda, starts, idx, val, c, ldc);
    if (whole < m) {
      avx::SparseProduct(m - whole, n, k, a + whole, lda, starts, idx, val, c + whole, ldc);
    }
    return;
  }
#endif
  Gemm(m, n, k, a, lda, b, b_row, b_col, c, ldc);
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
