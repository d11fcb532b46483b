// EventLog: the durable, ordered log of accepted events, and the seam a distributed mode
// replaces with an external stream. An Append is all or nothing; the implementation
// assigns the sequence numbers (consecutive, increasing: an external stream assigns its
// own), so callers learn them from Append. Replay returns events in sequence order.
//
// Flush markers. Besides events the log holds flush markers ("cut the mini-batch here":
// a mini-batch model applies its partial batch at the marker; server/core/updater.h
// decides when). A marker consumes one sequence number, like an event, so the log's
// positions stay consecutive (records keyed by their first sequence number never collide,
// gaps and overlaps are detected as before) and a marker sits at a definite place: after
// every entry with a lower number, before every one with a higher number. Sequence numbers
// (and LastSeq, a checkpoint's last_seq, GetStats' last_seq) therefore count log entries,
// events and markers; events_applied counts events only. The de-duplication window counts
// a marker as an entry without an event id.
//
// Implementations: RocksEventLog (storage/rocks_event_log.h; --durability async/sync)
// and UnloggedEventLog (storage/unlogged_event_log.h; --durability=none: numbers events
// and keeps the vector-field registry, logs nothing).
// Threads: StartAt before serving; Append from one thread (the server's log writer);
// Replay, FirstSeq, LastSeq before serving; TruncateBefore from the storage thread;
// ApproximateBytes from any thread.
#ifndef STREAMREC_STORAGE_EVENT_LOG_H_
#define STREAMREC_STORAGE_EVENT_LOG_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "model/example.h"

namespace streamrec::storage {

// LogEntry: one event to log (pointers into the caller's batch), or a flush marker
// (example and event_id null).
struct LogEntry {
  const model::Example* example;
  const std::string* event_id;
  static LogEntry FlushMarker() { return {nullptr, nullptr}; }
  bool is_flush() const { return example == nullptr; }
};

// (field, dimension) of vector fields registered by the events they come with.
using VectorDimList = std::vector<std::pair<std::string, uint32_t>>;

// StoreWrite: a write to the impression store (storage/impression_store.h) that accounts
// for events of the same Append (a reward joined, an impression closed by its default
// rewards; server/reward_join.h): put `value` at `key`, or erase `key`. A log in the
// same database writes them atomically with the events; others apply them after.
struct StoreWrite {
  std::string key;
  std::string value;
  bool erase = false;
};
using StoreWrites = std::vector<StoreWrite>;

using ReplayFn = std::function<void(uint64_t seq, model::Example& example, std::string& event_id)>;
// FlushFn hears a flush marker at `seq` during a Replay.
using FlushFn = std::function<void(uint64_t seq)>;

class EventLog {
 public:
  virtual ~EventLog() = default;

  // StartAt: the next appended event gets sequence number `next_seq` (recovery knows it).
  virtual void StartAt(uint64_t next_seq) = 0;
  // Append logs `entries` (events and flush markers) in order, with the vector fields
  // they register, in one durable write, and returns the sequence number of the first
  // (the next one when `entries` is empty and only fields are registered).
  // `store` holds impression-store writes durable with them (see StoreWrite).
  virtual absl::StatusOr<uint64_t> Append(const std::vector<LogEntry>& entries,
                                          const VectorDimList& new_dims,
                                          const StoreWrites& store) = 0;
  absl::StatusOr<uint64_t> Append(const std::vector<LogEntry>& entries,
                                  const VectorDimList& new_dims) {
    return Append(entries, new_dims, StoreWrites());
  }
  // Replay calls fn for every logged event, and on_flush for every flush marker, with
  // seq > after, in order. DataLoss on a damaged record, naming it.
  virtual absl::Status Replay(uint64_t after, const ReplayFn& fn, const FlushFn& on_flush) = 0;
  // Replay of the events alone (markers skipped): for readers that do not train (counts,
  // event ids). Whatever trains a model must see the markers.
  absl::Status Replay(uint64_t after, const ReplayFn& fn) {
    return Replay(after, fn, [](uint64_t) {});
  }
  // FirstSeq and LastSeq: the lowest and highest logged sequence numbers, markers
  // included (0 when empty).
  virtual absl::StatusOr<uint64_t> FirstSeq() = 0;
  virtual absl::StatusOr<uint64_t> LastSeq() = 0;
  // TruncateBefore drops events < seq that no longer need to be kept (at least those of
  // records ending before it) and frees their space.
  virtual absl::Status TruncateBefore(uint64_t seq) = 0;
  // ApproximateBytes: the log's size.
  virtual uint64_t ApproximateBytes() = 0;
};

}  // namespace streamrec::storage

#endif  // STREAMREC_STORAGE_EVENT_LOG_H_
