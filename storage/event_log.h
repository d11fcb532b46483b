// EventLog: the durable, ordered log of accepted events, and the seam a distributed mode
// replaces with an external stream. An Append is all or nothing; the implementation
// assigns the sequence numbers (consecutive, increasing: an external stream assigns its
// own), so callers learn them from Append. Replay returns events in sequence order.
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

// LogEntry: one event to log (pointers into the caller's batch).
struct LogEntry {
  const model::Example* example;
  const std::string* event_id;
};

// (field, dimension) of vector fields registered by the events they come with.
using VectorDimList = std::vector<std::pair<std::string, uint32_t>>;

using ReplayFn = std::function<void(uint64_t seq, model::Example& example, std::string& event_id)>;

class EventLog {
 public:
  virtual ~EventLog() = default;

  // StartAt: the next appended event gets sequence number `next_seq` (recovery knows it).
  virtual void StartAt(uint64_t next_seq) = 0;
  // Append logs `entries` in order, with the vector fields they register, in one durable
  // write, and returns the sequence number of the first (the next one when `entries` is
  // empty and only fields are registered).
  virtual absl::StatusOr<uint64_t> Append(const std::vector<LogEntry>& entries,
                                          const VectorDimList& new_dims) = 0;
  // Replay calls fn for every logged event with seq > after, in order. DataLoss on a
  // damaged record, naming it.
  virtual absl::Status Replay(uint64_t after, const ReplayFn& fn) = 0;
  // FirstSeq and LastSeq: the lowest and highest logged sequence numbers (0 when empty).
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
