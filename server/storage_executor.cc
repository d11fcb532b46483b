#include "server/storage_executor.h"

#include "common/thread_name.h"

namespace streamrec::server {

StorageExecutor::StorageExecutor(std::function<void()> tick,
                                 std::chrono::milliseconds tick_interval,
                                 int max_pending_writes)
    : tick_(std::move(tick)),
      tick_interval_(tick_interval),
      max_pending_writes_(max_pending_writes),
      thread_([this] { Run(); }) {}

StorageExecutor::~StorageExecutor() { Stop(); }

void StorageExecutor::Post(std::function<void()> task) {
  {
    core::MutexLock lock(&mu_);
    tasks_.push_back(std::move(task));
  }
  cv_.notify_all();
}

void StorageExecutor::BeginWrite(std::function<void()> write) {
  {
    core::UniqueLock lock(&mu_);
    while (pending_writes_ >= max_pending_writes_) cv_.wait(lock);
    ++pending_writes_;
    tasks_.push_back([this, write = std::move(write)] {
      write();
      core::MutexLock done(&mu_);
      --pending_writes_;
    });
  }
  cv_.notify_all();
}

void StorageExecutor::WaitIdle() {
  core::UniqueLock lock(&mu_);
  while (!tasks_.empty() || busy_) cv_.wait(lock);
}

void StorageExecutor::Stop() {
  {
    core::MutexLock lock(&mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StorageExecutor::Run() {
  SetThreadName("sr-storage");
  using Clock = std::chrono::steady_clock;
  auto next_tick = Clock::now() + tick_interval_;
  core::UniqueLock lock(&mu_);
  for (;;) {
    if (!tasks_.empty()) {
      std::function<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      busy_ = true;
      lock.unlock();
      task();
      task = nullptr;  // release what it captured before reporting idle
      lock.lock();
      busy_ = false;
      cv_.notify_all();
      continue;
    }
    if (stop_) return;  // everything queued has run
    if (tick_ && Clock::now() >= next_tick) {
      lock.unlock();
      tick_();
      lock.lock();
      next_tick = Clock::now() + tick_interval_;
      continue;
    }
    cv_.wait_until(lock, tick_ ? next_tick : Clock::now() + std::chrono::hours(1));
  }
}

}  // namespace streamrec::server
