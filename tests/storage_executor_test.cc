// StorageExecutor: FIFO tasks on one thread, WaitIdle, write back-pressure, the idle
// tick, and Stop running what was queued.
#include "server/storage_executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace streamrec::server {
namespace {

TEST(StorageExecutorTest, RunsTasksInOrderOnOneThreadAndWaitsIdle) {
  StorageExecutor executor(nullptr, std::chrono::milliseconds(1000));
  std::vector<int> order;  // executor thread only, read after WaitIdle
  std::thread::id thread;
  std::atomic<bool> same{true};
  for (int i = 0; i < 100; ++i) {
    executor.Post([&, i] {
      if (i == 0) thread = std::this_thread::get_id();
      if (std::this_thread::get_id() != thread) same = false;
      order.push_back(i);
    });
  }
  executor.WaitIdle();
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
  EXPECT_TRUE(same.load());
  EXPECT_NE(thread, std::this_thread::get_id());
}

TEST(StorageExecutorTest, BeginWriteWaitsWhileTwoWritesArePending) {
  StorageExecutor executor(nullptr, std::chrono::milliseconds(1000), /*max_pending_writes=*/2);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::atomic<int> written{0};
  executor.BeginWrite([&] { gate.wait(); ++written; });
  executor.BeginWrite([&] { ++written; });
  std::atomic<bool> third_queued{false};
  std::thread producer([&] {
    executor.BeginWrite([&] { ++written; });  // must wait: two are pending
    third_queued = true;
  });
  // Deterministic: the first write cannot finish before the gate opens, so the third
  // BeginWrite cannot have returned.
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(third_queued.load());
    std::this_thread::yield();
  }
  release.set_value();
  producer.join();
  executor.WaitIdle();
  EXPECT_EQ(written.load(), 3);
}

TEST(StorageExecutorTest, TicksWhileIdleAndStopRunsWhatWasQueued) {
  std::atomic<int> ticks{0};
  std::atomic<int> ran{0};
  {
    StorageExecutor executor([&] { ++ticks; }, std::chrono::milliseconds(1));
    while (ticks.load() < 3) std::this_thread::yield();
    for (int i = 0; i < 10; ++i) executor.Post([&] { ++ran; });
    executor.Stop();
    EXPECT_EQ(ran.load(), 10);
    executor.Stop();  // idempotent
  }
  EXPECT_GE(ticks.load(), 3);
}

}  // namespace
}  // namespace streamrec::server
