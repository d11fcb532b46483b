// StreamAdmission: the limit holds under concurrent callers; rejections are counted.
// gRPC-free, so it also runs under ThreadSanitizer.
#include "server/stream_admission.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace streamrec::server {
namespace {

TEST(StreamAdmissionTest, AdmitsUpToTheLimitAndCountsRejections) {
  StreamAdmission a(2);
  EXPECT_TRUE(a.TryAcquire());
  EXPECT_TRUE(a.TryAcquire());
  EXPECT_FALSE(a.TryAcquire());
  EXPECT_FALSE(a.TryAcquire());
  EXPECT_EQ(a.open(), 2u);
  EXPECT_EQ(a.rejected(), 2u);
  a.Release();
  EXPECT_EQ(a.open(), 1u);
  EXPECT_TRUE(a.TryAcquire());
  EXPECT_EQ(a.rejected(), 2u);
}

TEST(StreamAdmissionTest, NeverExceedsTheLimitUnderConcurrentCallers) {
  constexpr size_t kLimit = 3;
  constexpr int kThreads = 6, kAttempts = 20000;
  StreamAdmission a(kLimit);
  std::atomic<size_t> holding{0}, max_holding{0};
  std::atomic<uint64_t> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kAttempts; ++i) {
        if (!a.TryAcquire()) {
          refused.fetch_add(1);
          continue;
        }
        const size_t now = holding.fetch_add(1) + 1;
        size_t seen = max_holding.load();
        while (now > seen && !max_holding.compare_exchange_weak(seen, now)) {
        }
        holding.fetch_sub(1);
        a.Release();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_LE(max_holding.load(), kLimit);
  EXPECT_EQ(a.open(), 0u);
  EXPECT_EQ(a.rejected(), refused.load());
}

}  // namespace
}  // namespace streamrec::server
