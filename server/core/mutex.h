// Mutex: std::mutex with Abseil thread-safety annotations, so clang's -Wthread-safety
// checks ABSL_GUARDED_BY fields while ThreadSanitizer (which does not see Debian's
// uninstrumented absl::Mutex) checks the locking. Lowercase lock/unlock make it usable
// with std::condition_variable_any.
//
// MutexLock holds a Mutex for a scope. UniqueLock does too, and can also be released
// and re-acquired inside it, which is what waiting on a condition variable needs:
//
//   UniqueLock lock(&mu_);
//   while (queue_.empty()) cv_.wait(lock);  // std::condition_variable_any
//   Use(queue_.front());
//
// Use std::unique_lock<Mutex> for neither: libstdc++ does not annotate it, so clang
// cannot tell that it holds the mutex and reports every guarded access under it.
// Write waits as loops, as above, rather than passing a predicate lambda to wait():
// clang checks a lambda's body on its own, without knowing that the lock is held.
#ifndef STREAMREC_SERVER_CORE_MUTEX_H_
#define STREAMREC_SERVER_CORE_MUTEX_H_

#include <mutex>

#include "absl/base/thread_annotations.h"

namespace streamrec::core {

class ABSL_LOCKABLE Mutex {
 public:
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

// MutexLock holds a Mutex for its scope.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->lock(); }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// UniqueLock holds a Mutex from construction to destruction, except between unlock()
// and the next lock(); clang tracks both. Meets the BasicLockable requirements, so
// std::condition_variable_any can wait on it (the wait releases and re-acquires it).
// Not thread-safe itself: one thread owns it, like the scope it lives in.
class ABSL_SCOPED_LOCKABLE UniqueLock {
 public:
  explicit UniqueLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->lock(); }
  ~UniqueLock() ABSL_UNLOCK_FUNCTION() {
    if (locked_) mu_->unlock();
  }
  UniqueLock(const UniqueLock&) = delete;
  UniqueLock& operator=(const UniqueLock&) = delete;

  // lock re-acquires the mutex; it must not be held by this lock.
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    mu_->lock();
    locked_ = true;
  }
  // unlock releases the mutex; it must be held by this lock.
  void unlock() ABSL_UNLOCK_FUNCTION() {
    locked_ = false;
    mu_->unlock();
  }

 private:
  Mutex* const mu_;
  bool locked_ = true;
};

}  // namespace streamrec::core

#endif  // STREAMREC_SERVER_CORE_MUTEX_H_
