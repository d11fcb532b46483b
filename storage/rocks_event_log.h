// RocksEventLog: the EventLog in RocksDB's `events` column family. Each Append is one
// record (storage/log_record.h; events and flush markers) keyed by its first sequence
// number, written in one WriteBatch together with the vector fields it registers
// (storage/meta_store.h) and the impression-store writes that go with it; with `sync` the write-ahead log is fsynced before Append
// returns. Records are written in `encoding` (format 5 by default; kLegacy for a log an
// older build must read) and read in any format. Thread rules: those of EventLog.
#ifndef STREAMREC_STORAGE_ROCKS_EVENT_LOG_H_
#define STREAMREC_STORAGE_ROCKS_EVENT_LOG_H_

#include "storage/database.h"
#include "storage/event_log.h"
#include "storage/log_record.h"
#include "storage/meta_store.h"

namespace streamrec::storage {

class RocksEventLog final : public EventLog {
 public:
  // `meta` keeps the vector-field registry; `sync`: --durability=sync.
  RocksEventLog(Database* db, const MetaStore* meta, bool sync,
                RecordEncoding encoding = RecordEncoding::kCompact)
      : db_(db), meta_(meta), sync_(sync), encoding_(encoding) {}

  void StartAt(uint64_t next_seq) override { next_seq_ = next_seq; }
  using EventLog::Append;
  absl::StatusOr<uint64_t> Append(const std::vector<LogEntry>& entries,
                                  const VectorDimList& new_dims,
                                  const StoreWrites& store) override;
  using EventLog::Replay;
  absl::Status Replay(uint64_t after, const ReplayFn& fn, const FlushFn& on_flush) override;
  absl::StatusOr<uint64_t> FirstSeq() override;
  absl::StatusOr<uint64_t> LastSeq() override;
  absl::Status TruncateBefore(uint64_t seq) override;
  uint64_t ApproximateBytes() override;

 private:
  Database* const db_;
  const MetaStore* const meta_;
  const bool sync_;
  const RecordEncoding encoding_;
  uint64_t next_seq_ = 1;  // Append's thread
};

}  // namespace streamrec::storage

#endif  // STREAMREC_STORAGE_ROCKS_EVENT_LOG_H_
