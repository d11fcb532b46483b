// StreamRegistry: the ObserveStreams open on this server, so that a stop can end each one
// exactly (server/observe_stream.h): it stops reading, finishes the request it has in
// flight, and finishes with the count it acknowledged, before gRPC's own shutdown would
// cancel it.
//
//   if (!registry.Add(this)) refuse;   // the stop has begun: no new stream
//   ...                                // the stream runs
//   registry.Remove(this);             // in the reactor's OnDone
//
//   registry.StopAll();                // each open stream's StopReading(), once
//   registry.WaitEmpty(deadline);      // until every one is done
//
// Thread-safe: any thread may call any method. StopReading is called with the registry's
// lock held, so a stream must not call Add, Remove or WaitEmpty from it (CountEnded is
// fine: it takes no lock). gRPC-free.
#ifndef STREAMREC_SERVER_STREAM_REGISTRY_H_
#define STREAMREC_SERVER_STREAM_REGISTRY_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>

#include "absl/container/flat_hash_set.h"
#include "server/core/mutex.h"

namespace streamrec::server {

class StoppableStream {
 public:
  // StopReading: start no new read; end at once when between requests, else after the
  // request in flight is acknowledged or refused.
  virtual void StopReading() = 0;

 protected:
  ~StoppableStream() = default;
};

class StreamRegistry {
 public:
  // The streams a stop ended, and what they had acknowledged.
  struct Ended {
    uint64_t streams = 0;
    uint64_t requests = 0;
    uint64_t events = 0;
  };

  // Add registers `s`; false (and `s` is not registered) once StopAll has begun.
  bool Add(StoppableStream* s) {
    core::MutexLock lock(&mu_);
    if (stopping_) return false;
    open_.insert(s);
    return true;
  }
  // Remove unregisters a stream Add registered.
  void Remove(StoppableStream* s) {
    core::MutexLock lock(&mu_);
    open_.erase(s);
    if (open_.empty()) empty_.notify_all();
  }
  // StopAll refuses new streams and asks each open one to stop reading. Idempotent.
  void StopAll() {
    core::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    for (StoppableStream* s : open_) s->StopReading();
  }
  // WaitEmpty waits until no stream is open or `deadline` passes; true when none is.
  bool WaitEmpty(std::chrono::steady_clock::time_point deadline) {
    core::UniqueLock lock(&mu_);
    while (!open_.empty()) {
      if (empty_.wait_until(lock, deadline) == std::cv_status::timeout) break;
    }
    return open_.empty();
  }
  size_t open() {
    core::MutexLock lock(&mu_);
    return open_.size();
  }
  bool stopping() {
    core::MutexLock lock(&mu_);
    return stopping_;
  }

  // CountEnded: a stream ended by the stop, after acknowledging `requests` (`events`).
  void CountEnded(uint64_t requests, uint64_t events) {
    ended_streams_.fetch_add(1, std::memory_order_relaxed);
    ended_requests_.fetch_add(requests, std::memory_order_relaxed);
    ended_events_.fetch_add(events, std::memory_order_relaxed);
  }
  Ended ended() const {
    return {ended_streams_.load(), ended_requests_.load(), ended_events_.load()};
  }

 private:
  core::Mutex mu_;
  std::condition_variable_any empty_;
  absl::flat_hash_set<StoppableStream*> open_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<uint64_t> ended_streams_{0}, ended_requests_{0}, ended_events_{0};
};

}  // namespace streamrec::server

#endif  // STREAMREC_SERVER_STREAM_REGISTRY_H_
