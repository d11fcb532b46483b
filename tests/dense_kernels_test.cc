// Gemm (model/dense_kernels.h): the same bits as the textbook loop (products in p order,
// no FMA) on every code path, for every shape the tiles and tails cover, both layouts of
// B, and one column alone equal to its column of a batch.
#include "model/dense_kernels.h"

#include <gtest/gtest.h>

#include <xmmintrin.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

namespace streamrec::model {
namespace {

std::vector<float> Random(size_t n, std::mt19937& gen) {
  std::normal_distribution<float> normal;
  std::vector<float> v(n);
  for (float& x : v) x = normal(gen);
  return v;
}

// The definition: c(i, j) = sum over p in order, each product rounded, no FMA.
std::vector<float> Reference(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float* a, ptrdiff_t lda,
                             const float* b, ptrdiff_t b_row, ptrdiff_t b_col) {
  std::vector<float> c(m * n);
  for (ptrdiff_t j = 0; j < n; ++j) {
    for (ptrdiff_t i = 0; i < m; ++i) {
      float acc = 0.0f;
      for (ptrdiff_t p = 0; p < k; ++p) {
        volatile float prod = a[i + p * lda] * b[p * b_row + j * b_col];  // no contraction
        acc = acc + prod;
      }
      c[i + j * m] = acc;
    }
  }
  return c;
}

bool SameBits(const std::vector<float>& x, const std::vector<float>& y) {
  // (memcmp of an empty vector's null data() is undefined behaviour: UBSan stops it.)
  return x.size() == y.size() &&
         (x.empty() || std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0);
}

constexpr const char* kPaths[] = {"sse2", "avx", "avx512"};

TEST(DenseKernelsTest, EveryPathGivesTheReferenceBits) {
  std::printf("this CPU: %s\n", GemmPath());
  std::mt19937 gen(7);
  // Rows: the tails of 4-, 8- and 16-lane vectors and of 1-4 vector tiles (64 rows on
  // AVX-512); columns: the tails of 4- and 6-column tiles.
  const ptrdiff_t ms[] = {1, 3, 4, 8, 13, 16, 33, 64, 100, 120, 256};
  const ptrdiff_t ns[] = {1, 2, 3, 4, 5, 6, 7, 13, 256};
  const ptrdiff_t ks[] = {1, 4, 7, 13, 128};  // Gemv: passes of 8, 4 and 1 columns
  for (ptrdiff_t m : ms) {
    for (ptrdiff_t n : ns) {
      for (ptrdiff_t k : ks) {
        const std::vector<float> a = Random(m * k, gen), b = Random(k * n, gen);
        for (bool transposed : {false, true}) {
          // B column-major k x n, or the transpose of a column-major n x k matrix.
          const ptrdiff_t b_row = transposed ? n : 1, b_col = transposed ? 1 : k;
          const std::vector<float> want = Reference(m, n, k, a.data(), m, b.data(), b_row, b_col);
          std::vector<float> c(m * n, -1.0f);
          Gemm(m, n, k, a.data(), m, b.data(), b_row, b_col, c.data(), m);
          ASSERT_TRUE(SameBits(c, want)) << GemmPath() << " m " << m << " n " << n << " k " << k
                                         << (transposed ? " transposed" : "");
          for (const char* path : kPaths) {
            std::vector<float> on_path(m * n, -1.0f);
            if (!GemmOnPath(path, m, n, k, a.data(), m, b.data(), b_row, b_col, on_path.data(),
                            m)) {
              continue;  // this CPU lacks it
            }
            ASSERT_TRUE(SameBits(on_path, want)) << path << " m " << m << " n " << n << " k "
                                                 << k << (transposed ? " transposed" : "");
          }
          // Each column alone.
          for (ptrdiff_t j = 0; j < n; j += 5) {
            std::vector<float> col(m);
            Gemm(m, 1, k, a.data(), m, b.data() + j * b_col, b_row, b_col, col.data(), m);
            ASSERT_TRUE(std::memcmp(col.data(), want.data() + j * m, m * sizeof(float)) == 0)
                << "column " << j << " of m " << m << " n " << n << " k " << k;
          }
        }
      }
    }
  }
}

// GemmSkipZeros: Gemm's bits with B 0-90% zeros (signed zeros among them), both layouts
// of B, row counts covering every path's tails; and the fallbacks (A with an infinity or
// NaN, B mostly nonzero, fewer than 8 rows) too.
// Same bits, except that any NaN matches any NaN (which NaN payload a sum of two keeps
// depends on the operand order the compiler picks; every NaN fails a batch alike).
bool SameBitsOrBothNan(const std::vector<float>& x, const std::vector<float>& y) {
  if (x.size() != y.size()) return false;
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i]) && std::isnan(y[i])) continue;
    if (std::memcmp(&x[i], &y[i], sizeof(float)) != 0) return false;
  }
  return true;
}

TEST(DenseKernelsTest, GemmSkipZerosGivesGemmBits) {
  std::mt19937 gen(11);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  for (ptrdiff_t m : {1, 8, 13, 16, 33, 64, 100, 128, 256}) {
    for (ptrdiff_t n : {1, 7, 64}) {
      for (ptrdiff_t k : {1, 9, 128}) {
        for (float zeros : {0.0f, 0.5f, 0.75f, 0.9f}) {
          std::vector<float> a = Random(m * k, gen), b = Random(k * n, gen);
          for (float& x : b) {
            if (unit(gen) < zeros) x = unit(gen) < 0.5f ? 0.0f : -0.0f;
          }
          for (int poison = 0; poison < 3; ++poison) {
            if (poison == 1) a[(m * k) / 2] = INFINITY;
            if (poison == 2) a[0] = std::nanf("");
            for (bool transposed : {false, true}) {
              const ptrdiff_t b_row = transposed ? n : 1, b_col = transposed ? 1 : k;
              const std::vector<float> want =
                  Reference(m, n, k, a.data(), m, b.data(), b_row, b_col);
              std::vector<float> c(m * n, -1.0f);
              GemmSkipZeros(m, n, k, a.data(), m, b.data(), b_row, b_col, c.data(), m);
              ASSERT_TRUE(SameBitsOrBothNan(c, want))
                  << "m " << m << " n " << n << " k " << k << " zeros " << zeros << " poison "
                  << poison << (transposed ? " transposed" : "");
            }
          }
        }
      }
    }
  }
}

// With flush-to-zero on, a sum of nonzero terms can be -0 (a negative denormal flushed),
// so skipping a zero product would keep a -0 where Gemm's adding it gives +0:
// GemmSkipZeros must then be Gemm (found by the hostile pass).
TEST(DenseKernelsTest, GemmSkipZerosUnderFlushToZeroIsGemm) {
  const unsigned saved = _mm_getcsr();
  _mm_setcsr(saved | 0x8000);  // FTZ
  const ptrdiff_t m = 16, n = 1, k = 4;
  std::vector<float> a(m * k, 1.0f), b = {-1.5e-38f, 1.4e-38f, 0.0f, 0.0f};
  std::vector<float> dense(m, -1.0f), skip(m, -1.0f);
  Gemm(m, n, k, a.data(), m, b.data(), 1, k, dense.data(), m);
  GemmSkipZeros(m, n, k, a.data(), m, b.data(), 1, k, skip.data(), m);
  _mm_setcsr(saved);
  EXPECT_TRUE(SameBits(dense, skip)) << std::signbit(dense[0]) << " " << std::signbit(skip[0]);
}

// ReluBackward against its definition, with and without a mask, on signed zeros, NaN and
// infinities in a, and lengths covering every vector tail.
TEST(DenseKernelsTest, ReluBackwardIsItsDefinition) {
  std::mt19937 gen(3);
  for (size_t n : {0, 1, 3, 4, 7, 8, 15, 16, 17, 33, 256}) {
    std::vector<float> a = Random(n, gen), below = Random(n, gen), mask(n);
    for (size_t i = 0; i < n; ++i) mask[i] = i % 3 == 0 ? 0.0f : 2.0f;
    const float special[] = {0.0f, -0.0f, std::nanf(""), INFINITY, -INFINITY, 1e-45f};
    for (size_t i = 0; i < n && i < 6; ++i) a[i] = special[i];
    for (bool masked : {false, true}) {
      std::vector<float> want(n), out(n, -1.0f);
      for (size_t i = 0; i < n; ++i) {
        want[i] = a[i] > 0 ? (masked ? below[i] * mask[i] : below[i]) : 0.0f;
      }
      ReluBackward(n, a.data(), below.data(), masked ? mask.data() : nullptr, out.data());
      ASSERT_TRUE(SameBits(out, want)) << "n " << n << (masked ? " masked" : "");
    }
  }
}

// DropoutFill against the scalar SplitMix64 draw it vectorizes.
TEST(DenseKernelsTest, DropoutFillIsItsDefinition) {
  for (size_t n : {0, 1, 5, 8, 16, 31, 256}) {
    for (uint64_t threshold : {uint64_t{0}, uint64_t{1} << 52, (uint64_t{1} << 53) - 1}) {
      const uint64_t seed = 0x0123456789abcdefull + n;
      std::vector<float> want(n), out(n, -1.0f);
      for (size_t j = 0; j < n; ++j) {
        uint64_t z = seed + j * 0x9e3779b97f4a7c15ull + 0x9e3779b97f4a7c15ull;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        want[j] = ((z ^ (z >> 31)) >> 11) >= threshold ? 2.0f : 0.0f;
      }
      DropoutFill(seed, threshold, 0x40000000u /* 2.0f */, out.data(), n);
      ASSERT_TRUE(SameBits(out, want)) << "n " << n << " threshold " << threshold;
    }
  }
}

}  // namespace
}  // namespace streamrec::model
