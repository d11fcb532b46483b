// UnloggedEventLog: the EventLog of --durability=none: numbers events (and flush
// markers, which take a number each as in a real log) and keeps the vector-field
// registry (a small write only when a request brings a new field) and the impression
// store's writes, logs no event,
// replays nothing. Thread rules: those of EventLog.
#ifndef STREAMREC_STORAGE_UNLOGGED_EVENT_LOG_H_
#define STREAMREC_STORAGE_UNLOGGED_EVENT_LOG_H_

#include "storage/database.h"
#include "storage/event_log.h"
#include "storage/meta_store.h"

namespace streamrec::storage {

class UnloggedEventLog final : public EventLog {
 public:
  UnloggedEventLog(Database* db, const MetaStore* meta) : db_(db), meta_(meta) {}

  void StartAt(uint64_t next_seq) override { next_seq_ = next_seq; }
  using EventLog::Append;
  absl::StatusOr<uint64_t> Append(const std::vector<LogEntry>& entries,
                                  const VectorDimList& new_dims,
                                  const StoreWrites& store) override {
    if (!store.empty() && !db_->has_impressions()) {
      return absl::InternalError("impression-store writes for a data dir without impressions");
    }
    if (!new_dims.empty() || !store.empty()) {
      rocksdb::WriteBatch batch;
      meta_->AddVectorDims(new_dims, batch);
      for (const StoreWrite& w : store) {
        if (w.erase) {
          db_->Delete(batch, Family::kImpressions, w.key);
        } else {
          db_->Put(batch, Family::kImpressions, w.key, w.value);
        }
      }
      if (absl::Status s = db_->Write(batch, false); !s.ok()) return s;
    }
    const uint64_t first = next_seq_;
    next_seq_ += entries.size();
    return first;
  }
  using EventLog::Replay;
  absl::Status Replay(uint64_t, const ReplayFn&, const FlushFn&) override {
    return absl::OkStatus();
  }
  absl::StatusOr<uint64_t> FirstSeq() override { return uint64_t{0}; }
  absl::StatusOr<uint64_t> LastSeq() override { return uint64_t{0}; }
  absl::Status TruncateBefore(uint64_t) override { return absl::OkStatus(); }
  uint64_t ApproximateBytes() override { return 0; }

 private:
  Database* const db_;
  const MetaStore* const meta_;
  uint64_t next_seq_ = 1;
};

}  // namespace streamrec::storage

#endif  // STREAMREC_STORAGE_UNLOGGED_EVENT_LOG_H_
