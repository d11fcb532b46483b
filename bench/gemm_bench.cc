// gemm_bench: GFLOP/s of the deep model's matrix products (model/dense_kernels.h) on the
// shapes one training batch of the brief's model runs (128 -> 256 -> 128 -> 1, batches
// of 256), on every code path this CPU has, one thread. "Bt": B is the transpose of a
// column-major matrix (the weight gradients). "zeros": a share of B's elements set to
// zero (ReLU and dropout leave ~50-75% in the hidden layers' inputs and gradients), the
// product through GemmSkipZeros (as training runs it) and through Gemm.
//   build/bin/gemm_bench
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "model/dense_kernels.h"

using namespace streamrec::model;

namespace {

struct Shape {
  const char* name;
  long m, n, k;
  bool bt;
  double zeros = 0;  // share of B's elements set to zero
};

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

int main() {
  const Shape shapes[] = {{"score0 256x256x128", 256, 256, 128, false},
                          {"fwd1 128x256x256", 128, 256, 256, false},
                          {"gw1 128x256x256 Bt", 128, 256, 256, true},
                          {"below1 256x256x128", 256, 256, 128, false},
                          {"gw0 256x128x256 Bt", 256, 128, 256, true},
                          {"out 1x256x128", 1, 256, 128, false},
                          {"gw2 1x128x256 Bt", 1, 128, 256, true},
                          {"score1 128x256x256", 128, 256, 256, false, 0.5},
                          {"fwd1 128x256x256", 128, 256, 256, false, 0.75},
                          {"gw1 128x256x256 Bt", 128, 256, 256, true, 0.75},
                          {"below1 256x256x128", 256, 256, 128, false, 0.75},
                          {"gw0^T 128x256x256 Bt", 128, 256, 256, true, 0.75}};
  std::mt19937 gen(1);
  std::normal_distribution<float> normal;
  std::printf("widest path: %s\n", GemmPath());
  for (const Shape& s : shapes) {
    std::vector<float> a(s.m * s.k), b(s.k * s.n), c(s.m * s.n);
    for (float& x : a) x = normal(gen);
    std::uniform_real_distribution<double> unit;
    for (float& x : b) x = unit(gen) < s.zeros ? 0.0f : normal(gen);
    const long b_row = s.bt ? s.n : 1, b_col = s.bt ? 1 : s.k;
    const double flops = 2.0 * s.m * s.n * s.k;
    const int reps = static_cast<int>(2e9 / flops) + 1;
    if (s.zeros > 0) {
      for (bool skip : {true, false}) {
        const auto start = std::chrono::steady_clock::now();
        for (int r = 0; r < reps; ++r) {
          (skip ? GemmSkipZeros : Gemm)(s.m, s.n, s.k, a.data(), s.m, b.data(), b_row, b_col,
                                        c.data(), s.m);
        }
        const double sec = Seconds(start);
        std::printf("%-22s %2.0f%% zeros %-13s %7.1f us\n", s.name, 100 * s.zeros,
                    skip ? "GemmSkipZeros" : "Gemm", sec / reps * 1e6);
      }
      continue;
    }
    for (const char* path : {"avx512", "avx", "sse2"}) {
      if (!GemmOnPath(path, s.m, s.n, s.k, a.data(), s.m, b.data(), b_row, b_col, c.data(),
                      s.m)) {
        continue;
      }
      const auto start = std::chrono::steady_clock::now();
      for (int r = 0; r < reps; ++r) {
        GemmOnPath(path, s.m, s.n, s.k, a.data(), s.m, b.data(), b_row, b_col, c.data(), s.m);
      }
      const double sec = Seconds(start);
      std::printf("%-22s %-7s %6.1f GFLOP/s  %7.1f us\n", s.name, path, flops * reps / sec / 1e9,
                  sec / reps * 1e6);
    }
  }
  return 0;
}
