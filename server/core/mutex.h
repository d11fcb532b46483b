// Mutex: std::mutex with Abseil thread-safety annotations, so clang's -Wthread-safety
// checks ABSL_GUARDED_BY fields while ThreadSanitizer (which does not see Debian's
// uninstrumented absl::Mutex) checks the locking. Lowercase lock/unlock make it usable
// with std::condition_variable_any.
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

// UniqueLock holds a Mutex for its scope, and can be waited on with
// std::condition_variable_any (which unlocks and relocks it around the sleep; the
// analysis treats the mutex as held throughout, which is what the caller observes).
class ABSL_SCOPED_LOCKABLE UniqueLock {
 public:
  explicit UniqueLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->lock(); }
  ~UniqueLock() ABSL_UNLOCK_FUNCTION() { mu_->unlock(); }
  UniqueLock(const UniqueLock&) = delete;
  UniqueLock& operator=(const UniqueLock&) = delete;
  void lock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu_->lock(); }
  void unlock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu_->unlock(); }

 private:
  Mutex* const mu_;
};

}  // namespace streamrec::core

#endif  // STREAMREC_SERVER_CORE_MUTEX_H_
