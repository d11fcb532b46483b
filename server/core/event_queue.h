// EventQueue: the bounded multi-producer, single-consumer queue between the request
// handlers (producers, any thread) and the log writer (the one consumer), which hands
// each logged batch on to the updater.
//
// Unit of transfer is an EventBatch: the validated events of one Observe request, pushed
// all-or-nothing. Capacity is counted in events by an admission counter (a request of n
// events needs n free places), and the batches travel through a lock-free bounded ring
// (Vyukov's MPMC array queue). Batches leave in the order their pushes completed, so
// one producer's (one request's, one stream's) events stay in order; the queue never
// drops or reorders anything it accepted.
//
// Memory bound: places are returned by Release() only after the updater has trained
// the batch (or the log writer failed to log it), so at most `capacity` events are held between the handlers and the model.
// A second budget counts bytes: a producer reserves its converted batch's size
// (ReserveBytes) before pushing, also while it waits for event places (a parked
// stream), and the bytes return with the places. So the converted events held by the
// pipeline never exceed `capacity_bytes`, whatever their size.
//
// Threads: TryPush, AddSpaceWaiter, Release, depth() from any thread. TryPop and
// WaitForWork from the single consumer thread only (the LogWriter).
#ifndef STREAMREC_SERVER_CORE_EVENT_QUEUE_H_
#define STREAMREC_SERVER_CORE_EVENT_QUEUE_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "model/example.h"
#include "server/core/mutex.h"

namespace streamrec::core {

// NewVectorDim: a vector field a request uses whose dimension was not registered when
// the request was validated; `path` names its first use in the request (for errors).
struct NewVectorDim {
  std::string field;
  uint32_t dim = 0;
  std::string path;
};

// PendingReward: an event that named only a prediction_id (no features): the log writer
// joins it with the logged impression (server/reward_join.h), which gives examples[event]
// its features, or drops it.
// An event with features and a prediction_id is one too, with `has_features`: it keeps
// its own features and only marks its item rewarded (no default reward for it later).
struct PendingReward {
  uint32_t event = 0;
  std::string prediction_id;
  std::string item_id;
  bool has_features = false;
};

// EventBatch: the events of one request, in order, and what the pipeline learns about
// them on the way: accepted (queue), sequenced and logged (LogWriter), trained (Updater).
struct EventBatch {
  std::vector<model::Example> examples;
  // Client event ids, parallel to examples ("" when not given).
  std::vector<std::string> event_ids;
  // Vector fields to register when (and only if) the batch is logged.
  std::vector<NewVectorDim> new_dims;
  // Rewards to join, in event order; and, once the log writer joined them, how many got
  // their impression's features and how many were dropped (not logged or trained).
  std::vector<PendingReward> rewards;
  size_t rewards_joined = 0;
  size_t rewards_dropped = 0;
  // Approximate memory the batch holds (bytes), counted against the queue's byte budget
  // from ReserveBytes until Release.
  size_t bytes = 0;
  bool bytes_reserved = false;
  // Called once by the LogWriter when the batch is durable per --durability (OK), or
  // could not be logged (error: the batch is dropped). May be empty.
  std::function<void(const absl::Status&)> on_logged;
  // Set by TryPush: acceptance time and the queue places the batch holds.
  std::chrono::steady_clock::time_point accepted_at;
  size_t admitted = 0;
  // Set by the LogWriter: the sequence number of examples[0] (0 when empty), or of the
  // flush marker; and how many of the batch's events it dropped as duplicates of a recent
  // event_id (before on_logged).
  uint64_t first_seq = 0;
  size_t duplicates = 0;
  // A flush marker (server/core/updater.h), not events: made by the LogWriter on the
  // updater's request, logged at its own sequence number, and handed to the updater like
  // a batch; `examples` is empty. Never in the EventQueue.
  bool flush = false;

  // RemoveEvents drops the events whose `removed` entry is non-zero (one per example),
  // keeping the rest in order with their event ids and the rewards that name them
  // (renumbered; a removed event's reward goes with it).
  void RemoveEvents(const std::vector<uint8_t>& removed) {
    std::vector<uint32_t> moved(examples.size(), UINT32_MAX);
    size_t kept = 0;
    for (size_t i = 0; i < examples.size(); ++i) {
      if (removed[i]) continue;
      moved[i] = static_cast<uint32_t>(kept);
      if (kept != i) {
        examples[kept] = std::move(examples[i]);
        if (i < event_ids.size()) event_ids[kept] = std::move(event_ids[i]);
      }
      ++kept;
    }
    examples.resize(kept);
    if (event_ids.size() > kept) event_ids.resize(kept);
    size_t r = 0;
    for (size_t j = 0; j < rewards.size(); ++j) {
      if (moved[rewards[j].event] == UINT32_MAX) continue;
      rewards[j].event = moved[rewards[j].event];
      if (r != j) rewards[r] = std::move(rewards[j]);
      ++r;
    }
    rewards.resize(r);
  }
};

class EventQueue {
 public:
  // capacity: events admitted and not yet released; at least 1. capacity_bytes: bytes
  // reserved and not yet released.
  explicit EventQueue(size_t capacity, size_t capacity_bytes = SIZE_MAX);
  ~EventQueue();
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  // TryPush moves `batch` into the queue and returns true, or returns false (batch left
  // untouched) when its events do not fit now. Lock-free; wakes the consumer.
  bool TryPush(std::unique_ptr<EventBatch>& batch);

  // TryPop returns the oldest batch, or nullptr when none is ready.
  std::unique_ptr<EventBatch> TryPop();
  // WaitForWork blocks the consumer until a push or until `deadline`.
  void WaitForWork(std::chrono::steady_clock::time_point deadline);
  // Wake ends the current or next WaitForWork (used to stop the consumer).
  void Wake();
  // Release returns `events` places (a batch's `admitted`) and `bytes` of the byte
  // budget once the pipeline is done with a batch, then runs the space waiters (on the
  // calling thread). Release(batch) returns what the batch holds.
  void Release(size_t events, size_t bytes = 0);
  void Release(const EventBatch& batch) {
    Release(batch.admitted, batch.bytes_reserved ? batch.bytes : 0);
  }

  // ReserveBytes reserves batch.bytes of the byte budget (false when they do not fit
  // now); sets batch.bytes_reserved. ReleaseBytes returns a reservation of a batch that
  // was never pushed.
  bool ReserveBytes(EventBatch& batch);
  void ReleaseBytes(EventBatch& batch);

  // AddSpaceWaiter registers `retry` to run once after the next Release, for a producer
  // whose batch of `events` (or `bytes`) did not fit. Returns false without registering
  // when that much room is free by now: the caller should retry itself.
  bool AddSpaceWaiter(size_t events, size_t bytes, std::function<void()> retry);

  size_t depth() const { return admitted_.load(std::memory_order_relaxed); }
  size_t capacity() const { return capacity_; }
  size_t bytes_used() const { return bytes_.load(std::memory_order_relaxed); }
  size_t capacity_bytes() const { return capacity_bytes_; }

 private:
  struct Cell {
    std::atomic<size_t> sequence;
    EventBatch* batch;
  };
  bool RingPush(EventBatch* batch);
  EventBatch* RingPop();

  const size_t capacity_;
  const size_t capacity_bytes_;
  const size_t mask_;
  std::unique_ptr<Cell[]> cells_;
  alignas(64) std::atomic<size_t> enqueue_pos_{0};
  alignas(64) std::atomic<size_t> dequeue_pos_{0};
  alignas(64) std::atomic<size_t> admitted_{0};
  alignas(64) std::atomic<size_t> bytes_{0};
  std::atomic<bool> consumer_sleeping_{false};
  std::atomic<bool> has_waiters_{false};

  Mutex sleep_mu_;
  std::condition_variable_any wake_;
  bool wake_requested_ ABSL_GUARDED_BY(sleep_mu_) = false;
  Mutex waiters_mu_;
  std::vector<std::function<void()>> waiters_ ABSL_GUARDED_BY(waiters_mu_);
};

}  // namespace streamrec::core

#endif  // STREAMREC_SERVER_CORE_EVENT_QUEUE_H_
