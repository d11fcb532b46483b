#include "server/core/event_queue.h"

#include <algorithm>
#include <bit>

namespace streamrec::core {
namespace {

// The ring holds batch pointers; a batch has at least one event, so a ring as large as
// the event capacity never fills first. Cap it: past 64Ki waiting requests the event
// capacity is the limit that matters.
size_t RingSize(size_t capacity) {
  return std::bit_ceil(std::clamp<size_t>(capacity, 2, size_t{1} << 16));
}

}  // namespace

EventQueue::EventQueue(size_t capacity, size_t capacity_bytes)
    : capacity_(std::max<size_t>(capacity, 1)),
      capacity_bytes_(std::max<size_t>(capacity_bytes, 1)),
      mask_(RingSize(capacity) - 1),
      cells_(new Cell[mask_ + 1]) {
  for (size_t i = 0; i <= mask_; ++i) {
    cells_[i].sequence.store(i, std::memory_order_relaxed);
    cells_[i].batch = nullptr;
  }
}

EventQueue::~EventQueue() {
  while (EventBatch* b = RingPop()) delete b;
}

bool EventQueue::RingPush(EventBatch* batch) {
  size_t pos = enqueue_pos_.load(std::memory_order_relaxed);
  Cell* cell;
  for (;;) {
    cell = &cells_[pos & mask_];
    const size_t seq = cell->sequence.load(std::memory_order_acquire);
    const intptr_t diff = static_cast<intptr_t>(seq) - static_cast<intptr_t>(pos);
    if (diff == 0) {
      if (enqueue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
    } else if (diff < 0) {
      return false;  // ring full
    } else {
      pos = enqueue_pos_.load(std::memory_order_relaxed);
    }
  }
  cell->batch = batch;
  cell->sequence.store(pos + 1, std::memory_order_release);
  return true;
}

EventBatch* EventQueue::RingPop() {
  size_t pos = dequeue_pos_.load(std::memory_order_relaxed);
  Cell* cell;
  for (;;) {
    cell = &cells_[pos & mask_];
    const size_t seq = cell->sequence.load(std::memory_order_acquire);
    const intptr_t diff = static_cast<intptr_t>(seq) - static_cast<intptr_t>(pos + 1);
    if (diff == 0) {
      if (dequeue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
    } else if (diff < 0) {
      return nullptr;  // empty, or the oldest push has not finished writing
    } else {
      pos = dequeue_pos_.load(std::memory_order_relaxed);
    }
  }
  EventBatch* batch = cell->batch;
  cell->sequence.store(pos + mask_ + 1, std::memory_order_release);
  return batch;
}

bool EventQueue::TryPush(std::unique_ptr<EventBatch>& batch) {
  const size_t n = batch->examples.size();
  if (n > capacity_) return false;
  // Admission: reserve n places with a CAS, so the count never exceeds the capacity,
  // not even transiently.
  size_t admitted = admitted_.load(std::memory_order_seq_cst);
  do {
    if (admitted + n > capacity_) return false;
  } while (!admitted_.compare_exchange_weak(admitted, admitted + n, std::memory_order_seq_cst));
  EventBatch* raw = batch.get();
  raw->accepted_at = std::chrono::steady_clock::now();
  raw->admitted = n;
  if (!RingPush(raw)) {
    admitted_.fetch_sub(n, std::memory_order_seq_cst);
    return false;
  }
  batch.release();
  // Dekker-style handshake with WaitForWork: the push is visible before we read the flag.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (consumer_sleeping_.load(std::memory_order_seq_cst)) {
    MutexLock lock(&sleep_mu_);
    wake_.notify_one();
  }
  return true;
}

std::unique_ptr<EventBatch> EventQueue::TryPop() {
  return std::unique_ptr<EventBatch>(RingPop());
}

void EventQueue::WaitForWork(std::chrono::steady_clock::time_point deadline) {
  MutexLock lock(&sleep_mu_);
  consumer_sleeping_.store(true, std::memory_order_seq_cst);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const size_t pos = dequeue_pos_.load(std::memory_order_relaxed);
  const bool ready =
      cells_[pos & mask_].sequence.load(std::memory_order_acquire) == pos + 1;
  if (!ready && !wake_requested_) wake_.wait_until(sleep_mu_, deadline);
  wake_requested_ = false;
  consumer_sleeping_.store(false, std::memory_order_relaxed);
}

void EventQueue::Wake() {
  MutexLock lock(&sleep_mu_);
  wake_requested_ = true;  // sticky: also ends a wait that has not started yet
  wake_.notify_all();
}

bool EventQueue::ReserveBytes(EventBatch& batch) {
  if (batch.bytes_reserved) return true;
  const size_t n = batch.bytes;
  if (n > capacity_bytes_) return false;
  size_t used = bytes_.load(std::memory_order_seq_cst);
  do {
    if (used + n > capacity_bytes_) return false;
  } while (!bytes_.compare_exchange_weak(used, used + n, std::memory_order_seq_cst));
  batch.bytes_reserved = true;
  return true;
}

void EventQueue::ReleaseBytes(EventBatch& batch) {
  if (!batch.bytes_reserved) return;
  batch.bytes_reserved = false;
  Release(0, batch.bytes);
}

void EventQueue::Release(size_t events, size_t bytes) {
  admitted_.fetch_sub(events, std::memory_order_seq_cst);
  bytes_.fetch_sub(bytes, std::memory_order_seq_cst);
  if (!has_waiters_.load(std::memory_order_seq_cst)) return;
  std::vector<std::function<void()>> waiters;
  {
    MutexLock lock(&waiters_mu_);
    waiters.swap(waiters_);
    has_waiters_.store(false, std::memory_order_seq_cst);
  }
  for (auto& retry : waiters) retry();
}

bool EventQueue::AddSpaceWaiter(size_t events, size_t bytes, std::function<void()> retry) {
  MutexLock lock(&waiters_mu_);
  has_waiters_.store(true, std::memory_order_seq_cst);
  // Release() decrements before it reads has_waiters_: if we cannot see its decrement
  // here, it will see our flag and run the waiter.
  const bool ring_has_room = enqueue_pos_.load(std::memory_order_seq_cst) -
                                 dequeue_pos_.load(std::memory_order_seq_cst) <=
                             mask_;
  if (ring_has_room && admitted_.load(std::memory_order_seq_cst) + events <= capacity_ &&
      bytes_.load(std::memory_order_seq_cst) + bytes <= capacity_bytes_) {
    has_waiters_.store(!waiters_.empty(), std::memory_order_seq_cst);
    return false;
  }
  waiters_.push_back(std::move(retry));
  return true;
}

}  // namespace streamrec::core
