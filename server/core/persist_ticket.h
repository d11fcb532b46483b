// PersistTicket: the outcome of writing one checkpoint. The updater creates one per
// checkpoint it hands to its PersistFn (state kCaptured); the PersistFn's owner completes
// it once the write is durable (kWritten) or failed (kDropped), on its own thread
// (server/core/lifecycle.h); callers of Updater::PersistNow wait for it through Then or
// Wait. Thread-safe.
#ifndef STREAMREC_SERVER_CORE_PERSIST_TICKET_H_
#define STREAMREC_SERVER_CORE_PERSIST_TICKET_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "server/core/lifecycle.h"
#include "server/core/mutex.h"

namespace streamrec::core {

using PersistDone = std::function<void(absl::StatusOr<uint64_t>)>;

class PersistTicket {
 public:
  explicit PersistTicket(uint64_t version) : version_(version) {}

  uint64_t version() const { return version_; }

  // Complete records the write's outcome and runs the waiting callbacks (on the calling
  // thread). Only the first call counts.
  void Complete(const absl::Status& status) {
    std::vector<PersistDone> waiters;
    {
      MutexLock lock(&mu_);
      if (done_) return;
      done_ = true;
      status_ = status;
      state_ = status.ok() ? CheckpointState::kWritten : CheckpointState::kDropped;
      waiters.swap(waiters_);
      cv_.notify_all();
    }
    for (auto& w : waiters) Deliver(w, status);
  }

  // Then runs `fn` with the version once written, or the error; now if already complete.
  void Then(PersistDone fn) {
    absl::Status status;
    {
      MutexLock lock(&mu_);
      if (!done_) {
        waiters_.push_back(std::move(fn));
        return;
      }
      status = status_;
    }
    Deliver(fn, status);
  }

  // Wait blocks until complete and returns the outcome.
  absl::Status Wait() {
    UniqueLock lock(&mu_);
    while (!done_) cv_.wait(lock);
    return status_;
  }

  // state: kCaptured until complete, then kWritten or kDropped.
  CheckpointState state() {
    MutexLock lock(&mu_);
    return state_;
  }

  // Failed: complete with an error (false while pending or after success).
  bool Failed() {
    MutexLock lock(&mu_);
    return done_ && !status_.ok();
  }

 private:
  void Deliver(const PersistDone& fn, const absl::Status& status) {
    if (status.ok()) {
      fn(version_);
    } else {
      fn(status);
    }
  }

  const uint64_t version_;
  Mutex mu_;
  std::condition_variable_any cv_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  CheckpointState state_ ABSL_GUARDED_BY(mu_) = CheckpointState::kCaptured;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  std::vector<PersistDone> waiters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace streamrec::core

#endif  // STREAMREC_SERVER_CORE_PERSIST_TICKET_H_
