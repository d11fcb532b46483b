// StreamAdmission: admission control for long-lived calls. At most `limit` may be open
// at once; one more is refused (and counted) instead of growing memory without bound.
// The Recommender service takes a slot for each ObserveStream and gives it back when
// gRPC is done with the call.
//
//   if (!admission.TryAcquire()) return Refuse();   // RESOURCE_EXHAUSTED
//   ...                                             // the call runs
//   admission.Release();                            // in the reactor's OnDone
//
// Thread-safe and lock-free: any thread may call any method. gRPC-free.
#ifndef STREAMREC_SERVER_STREAM_ADMISSION_H_
#define STREAMREC_SERVER_STREAM_ADMISSION_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace streamrec::server {

class StreamAdmission {
 public:
  explicit StreamAdmission(size_t limit) : limit_(limit) {}
  StreamAdmission(const StreamAdmission&) = delete;
  StreamAdmission& operator=(const StreamAdmission&) = delete;

  // TryAcquire takes a slot and returns true, or returns false (and counts a rejection)
  // when `limit` slots are taken. Never exceeds the limit, not even transiently.
  bool TryAcquire() {
    size_t open = open_.load(std::memory_order_relaxed);
    do {
      if (open >= limit_) {
        rejected_.fetch_add(1, std::memory_order_relaxed);
        return false;
      }
    } while (!open_.compare_exchange_weak(open, open + 1, std::memory_order_acq_rel,
                                          std::memory_order_relaxed));
    return true;
  }

  // Release gives back a slot taken by a successful TryAcquire (exactly once each).
  void Release() { open_.fetch_sub(1, std::memory_order_acq_rel); }

  size_t limit() const { return limit_; }
  size_t open() const { return open_.load(std::memory_order_relaxed); }
  uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }

 private:
  const size_t limit_;
  std::atomic<size_t> open_{0};
  std::atomic<uint64_t> rejected_{0};
};

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_STREAM_ADMISSION_H_
