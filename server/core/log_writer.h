// LogWriter: the stage between the EventQueue and the Updater. One thread drains every
// batch waiting in the queue as one group, drops events whose event_id was seen within
// the last `dedup_window` logged events, appends the group to the durable log with one
// call (which numbers the events) (one RocksDB WriteBatch, so concurrent
// requests share one group commit and, with --durability=sync, one fsync), then
// acknowledges each batch (on_logged) and hands it to the trainer. Acknowledgement
// therefore never waits for training, and no request thread waits for the log: the
// callbacks finish the RPCs.
//
// Without an append function (no data dir) the writer numbers batches itself, from
// `next_seq`, and acknowledges them without logging. If an append fails, its batches are
// answered with the error and dropped (not trained), and their queue places released.
//
// Flush markers (storage/event_log.h; the updater asks for them, server/core/updater.h):
// RequestFlush makes the writer append a marker after everything it took from the queue
// so far, in the same group as the events before it when they are still unwritten; the
// marker takes the next sequence number, joins the de-duplication window as an entry
// without an id (so the window rebuilt from the log's tail at start is the same), and is
// handed to the updater through the inbox as an EventBatch with `flush` set. AppendFlush
// appends one at once, on the caller's thread, once the writer has stopped (the
// updater's final flush at a clean stop).
//
// Threads: constructor, SeedDedup, Start, Stop from the owner; RequestFlush from any
// thread; AppendFlush from any one thread after Stop; the rest internal.
#ifndef STREAMREC_SERVER_CORE_LOG_WRITER_H_
#define STREAMREC_SERVER_CORE_LOG_WRITER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "server/core/batch_inbox.h"
#include "server/core/event_queue.h"
#include "server/core/mutex.h"

namespace streamrec::core {

// AppendFn logs a group durably, its batches' events in order, a batch with `flush` set
// as one flush marker in its place (the group may hold no event at all, only batches'
// new_dims to record), and returns the sequence number the log gave its first entry; the
// rest follow consecutively (a marker takes one). The log assigns them (an external
// stream assigns its own).
using AppendFn =
    std::function<absl::StatusOr<uint64_t>(const std::vector<EventBatch*>& group)>;
// AdmitFn decides, in log order and before sequencing, whether a batch may be logged
// (the server registers new vector fields here); a non-OK status rejects that batch
// alone, which is answered with it. GroupDoneFn hears the outcome of each append of
// admitted batches (the server commits or forgets what AdmitFn reserved).
using AdmitFn = std::function<absl::Status(EventBatch& batch)>;
using GroupDoneFn = std::function<void(const absl::Status& status)>;
// ResolveFn runs on each admitted batch in log order, once its duplicates are dropped (a
// duplicate event is never joined), before the append: the server joins rewards here (it
// may change and drop events; a non-OK status refuses the batch, like AdmitFn's). DueFn
// returns a batch the writer logs first in its next group (default rewards of closed
// impressions), or null; it runs at least every `due_interval`.
using ResolveFn = std::function<absl::Status(EventBatch& batch)>;
using DueFn = std::function<std::unique_ptr<EventBatch>()>;

struct LogWriterOptions {
  // Event ids remembered for de-duplication; 0 disables it.
  size_t dedup_window = 0;
  // Largest group appended at once.
  size_t max_group_events = 65536;
  // ... and of at most about this many bytes of converted events (the log record is a
  // second copy of them).
  size_t max_group_bytes = 32 << 20;
  // Optional hooks (see above).
  AdmitFn admit;
  GroupDoneFn group_done;
  ResolveFn resolve;
  DueFn due;
  std::chrono::milliseconds due_interval{200};
};

class LogWriter {
 public:
  // Without an append function, the first event gets sequence number `next_seq`.
  LogWriter(EventQueue* queue, BatchInbox* inbox, AppendFn append, LogWriterOptions options,
            uint64_t next_seq);
  ~LogWriter();

  // SeedDedup remembers the ids of recently logged events (oldest first), e.g. the log's
  // tail after a restart. Before Start.
  void SeedDedup(const std::vector<std::string>& ids);

  void Start();
  // Stop logs and hands over everything already in the queue (and a requested marker),
  // then joins.
  void Stop();

  // RequestFlush: append a flush marker after the events taken from the queue so far.
  // `done` (may be empty) hears the append's outcome on the writer's thread; after an
  // error the marker is dropped (not handed over). A request made after the writer's
  // last loop at Stop is dropped silently (AppendFlush covers the stop).
  void RequestFlush(std::function<void(const absl::Status&)> done);
  // AppendFlush: after Stop, log one flush marker now and return its sequence number
  // (not handed over: the caller trains it). FailedPrecondition while the writer runs.
  absl::StatusOr<uint64_t> AppendFlush();

  uint64_t duplicates_dropped() const { return duplicates_.load(std::memory_order_relaxed); }

 private:
  void Run();
  void WriteGroup(std::vector<std::unique_ptr<EventBatch>>& group);
  // TakeFlushRequest: a marker batch for a pending RequestFlush, or null.
  std::unique_ptr<EventBatch> TakeFlushRequest();
  // IdKey: an event id's key in the window, XXH3-128 of its bytes (16 bytes whatever the
  // id's length; two different ids share a key with probability about 2^-128 per pair, so
  // a real event is never taken for a duplicate); the zero key stands for "no id".
  struct IdKey {
    uint64_t lo = 0, hi = 0;
    bool operator==(const IdKey&) const = default;
    template <typename H>
    friend H AbslHashValue(H h, const IdKey& k) {  // in memory only, never persisted
      return H::combine(std::move(h), k.lo, k.hi);
    }
  };
  static IdKey KeyOf(const std::string& id);
  // Remember adds a logged id to the de-duplication window.
  void Remember(const IdKey& key);

  EventQueue* const queue_;
  BatchInbox* const inbox_;
  const AppendFn append_;
  const LogWriterOptions options_;

  // Writer thread only (or owner before Start).
  uint64_t next_seq_;
  absl::flat_hash_map<IdKey, uint32_t> recent_;  // key -> times in recent_order_
  std::deque<IdKey> recent_order_;

  std::atomic<uint64_t> duplicates_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> running_{false};
  std::thread thread_;

  std::atomic<bool> flush_requested_{false};
  Mutex flush_mu_;
  std::vector<std::function<void(const absl::Status&)>> flush_done_ ABSL_GUARDED_BY(flush_mu_);
};

}  // namespace streamrec::core

#endif  // STREAMREC_SERVER_CORE_LOG_WRITER_H_
