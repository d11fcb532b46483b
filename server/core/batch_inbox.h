// BatchInbox: the hand-off of sequenced, logged batches from the LogWriter to the
// Updater, in order. Unbounded by itself: the EventQueue's admission counter (released
// only after training) bounds what it can hold. Thread-safe: Push from the writer, Pop
// and WaitUntil from the updater, Wake from anyone.
#ifndef STREAMREC_SERVER_CORE_BATCH_INBOX_H_
#define STREAMREC_SERVER_CORE_BATCH_INBOX_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>

#include "server/core/event_queue.h"
#include "server/core/mutex.h"

namespace streamrec::core {

class BatchInbox {
 public:
  void Push(std::unique_ptr<EventBatch> batch) {
    MutexLock lock(&mu_);
    batches_.push_back(std::move(batch));
    cv_.notify_one();
  }
  std::unique_ptr<EventBatch> Pop() {
    MutexLock lock(&mu_);
    if (batches_.empty()) return nullptr;
    std::unique_ptr<EventBatch> b = std::move(batches_.front());
    batches_.pop_front();
    return b;
  }
  // WaitUntil returns when a batch is waiting, Wake was called, or at `deadline`.
  void WaitUntil(std::chrono::steady_clock::time_point deadline) {
    MutexLock lock(&mu_);
    if (batches_.empty() && !woken_) cv_.wait_until(mu_, deadline);
    woken_ = false;
  }
  void Wake() {
    MutexLock lock(&mu_);
    woken_ = true;
    cv_.notify_all();
  }

 private:
  Mutex mu_;
  std::condition_variable_any cv_;
  std::deque<std::unique_ptr<EventBatch>> batches_ ABSL_GUARDED_BY(mu_);
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace streamrec::core

#endif  // STREAMREC_SERVER_CORE_BATCH_INBOX_H_
