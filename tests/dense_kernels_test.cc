// Gemm (model/dense_kernels.h): the same bits as the textbook loop (products in p order,
// no FMA) on every code path, for every shape the tiles and tails cover, both layouts of
// B, and one column alone equal to its column of a batch.
#include "model/dense_kernels.h"

#include <gtest/gtest.h>

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
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

TEST(DenseKernelsTest, EveryPathGivesTheReferenceBits) {
  std::mt19937 gen(7);
  const ptrdiff_t ms[] = {1, 3, 4, 8, 13, 16, 33, 64, 100, 256};
  const ptrdiff_t ns[] = {1, 2, 3, 5, 6, 7, 13, 256};
  const ptrdiff_t ks[] = {1, 4, 7, 13, 128};  // Gemv: passes of 8, 4 and 1 columns
  for (ptrdiff_t m : ms) {
    for (ptrdiff_t n : ns) {
      for (ptrdiff_t k : ks) {
        const std::vector<float> a = Random(m * k, gen), b = Random(k * n, gen);
        for (bool transposed : {false, true}) {
          // B column-major k x n, or the transpose of a column-major n x k matrix.
          const ptrdiff_t b_row = transposed ? n : 1, b_col = transposed ? 1 : k;
          const std::vector<float> want = Reference(m, n, k, a.data(), m, b.data(), b_row, b_col);
          std::vector<float> c(m * n, -1.0f), sse2(m * n, -1.0f);
          Gemm(m, n, k, a.data(), m, b.data(), b_row, b_col, c.data(), m);
          GemmSse2(m, n, k, a.data(), m, b.data(), b_row, b_col, sse2.data(), m);
          ASSERT_TRUE(SameBits(c, want)) << GemmPath() << " m " << m << " n " << n << " k " << k
                                         << (transposed ? " transposed" : "");
          ASSERT_TRUE(SameBits(sse2, want)) << "sse2 m " << m << " n " << n << " k " << k;
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

}  // namespace
}  // namespace streamrec::model
