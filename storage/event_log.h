// EventLog: the durable log of accepted events in the `events` column family. Each
// Append is one record (one WriteBatch) holding consecutive sequence numbers, keyed by
// its first; the writer stage appends, recovery replays, the trainer truncates.
// Thread-compatible per method group: Append from the writer thread; Replay, FirstSeq and
// LastSeq before serving; TruncateBefore on the storage thread; ApproximateBytes from any
// thread (RocksDB makes these safe to overlap).
//
// Record: u32 n, then n x (f32 label, f32 weight, u64 time_unix_ms, string event_id,
// u32 features, features x (u64 hash, f32 value)), sealed with a checksum.
#ifndef STREAMREC_STORAGE_EVENT_LOG_H_
#define STREAMREC_STORAGE_EVENT_LOG_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/example.h"
#include "storage/database.h"

namespace streamrec::storage {

// LogEntry: one event to log (pointers into the caller's batch).
struct LogEntry {
  const model::Example* example;
  const std::string* event_id;
};

class EventLog {
 public:
  explicit EventLog(Database* db) : db_(db) {}

  // Append logs `entries` as seqs first_seq, first_seq+1, ... in one WriteBatch; with
  // sync the WAL is fsynced before returning.
  absl::Status Append(uint64_t first_seq, const std::vector<LogEntry>& entries, bool sync);
  // AddRecord adds the record of `entries` to `batch` (written by the caller together
  // with other updates, e.g. new vector dimensions).
  void AddRecord(uint64_t first_seq, const std::vector<LogEntry>& entries,
                 rocksdb::WriteBatch& batch);

  // Replay calls fn(seq, example, event_id) for every logged event with seq > after, in
  // order. DataLoss on a corrupt record.
  absl::Status Replay(uint64_t after,
                      const std::function<void(uint64_t, model::Example&, std::string&)>& fn);

  // LastSeq returns the highest logged sequence number (0 when empty); FirstSeq the
  // lowest (0 when empty).
  absl::StatusOr<uint64_t> LastSeq();
  absl::StatusOr<uint64_t> FirstSeq();

  // TruncateBefore deletes records all of whose events are < seq, and compacts that
  // range so the space is freed.
  absl::Status TruncateBefore(uint64_t seq);

  // ApproximateBytes: on-disk and in-memory size of the log.
  uint64_t ApproximateBytes();

 private:
  Database* const db_;
};

}  // namespace streamrec::storage

#endif  // STREAMREC_STORAGE_EVENT_LOG_H_
