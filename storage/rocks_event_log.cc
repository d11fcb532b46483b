#include "storage/rocks_event_log.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "storage/encoding.h"
#include "storage/log_record.h"

namespace streamrec::storage {

absl::StatusOr<uint64_t> RocksEventLog::Append(const std::vector<LogEntry>& entries,
                                               const VectorDimList& new_dims,
                                               const StoreWrites& store) {
  if (!store.empty() && !db_->has_impressions()) {
    return absl::InternalError("impression-store writes for a data dir without impressions");
  }
  const uint64_t first = next_seq_;
  rocksdb::WriteBatch batch;
  if (!entries.empty()) {
    db_->Put(batch, Family::kEvents, BigEndianKey(first), EncodeRecord(entries, encoding_));
  }
  if (meta_ != nullptr) meta_->AddVectorDims(new_dims, batch);
  for (const StoreWrite& w : store) {
    if (w.erase) {
      db_->Delete(batch, Family::kImpressions, w.key);
    } else {
      db_->Put(batch, Family::kImpressions, w.key, w.value);
    }
  }
  if (batch.Count() > 0) {
    if (absl::Status s = db_->Write(batch, sync_); !s.ok()) return s;
  }
  next_seq_ += entries.size();
  return first;
}

absl::Status RocksEventLog::Replay(uint64_t after, const ReplayFn& fn, const FlushFn& on_flush) {
  std::unique_ptr<rocksdb::Iterator> it = db_->NewIterator(Family::kEvents);
  // Start at the record that may contain after + 1.
  it->SeekForPrev(BigEndianKey(after + 1));
  if (!it->Valid()) it->SeekToFirst();
  model::Example ex;
  std::string event_id;
  uint64_t expected = 0;  // the first seq of the next record; 0 before the first record
  for (; it->Valid(); it->Next()) {
    const uint64_t first = DecodeBigEndianKey(it->key().ToStringView());
    // Records follow on from each other: a gap lost acknowledged events, an overlap would
    // train some twice. Either is damage, refused before anything of the record is used.
    if (expected != 0 && first != expected) {
      return absl::DataLossError(
          first > expected
              ? absl::StrCat("the event log has a gap: events ", expected, "..", first - 1,
                             " are missing (the next record starts at ", first, ")")
              : absl::StrCat("the event log's records overlap: the record at seq ", first,
                             " starts inside the previous one, which ends at ", expected - 1));
    }
    RecordReader record(it->value().ToStringView(), first);
    uint64_t seq = first;
    for (; record.Next(ex, event_id); ++seq) {
      if (seq <= after) continue;
      if (record.flush()) {
        on_flush(seq);
      } else {
        fn(seq, ex, event_id);
      }
    }
    if (!record.status().ok()) return record.status();
    expected = seq;
  }
  return FromRocks(it->status(), "reading the event log");
}

absl::StatusOr<uint64_t> RocksEventLog::LastSeq() {
  std::unique_ptr<rocksdb::Iterator> it = db_->NewIterator(Family::kEvents);
  it->SeekToLast();
  if (!it->Valid()) {
    if (absl::Status s = FromRocks(it->status(), "reading the event log"); !s.ok()) return s;
    return uint64_t{0};
  }
  const uint64_t first = DecodeBigEndianKey(it->key().ToStringView());
  RecordReader record(it->value().ToStringView(), first);
  if (!record.status().ok()) return record.status();
  return first + record.count() - 1;
}

absl::StatusOr<uint64_t> RocksEventLog::FirstSeq() {
  std::unique_ptr<rocksdb::Iterator> it = db_->NewIterator(Family::kEvents);
  it->SeekToFirst();
  if (!it->Valid()) {
    if (absl::Status s = FromRocks(it->status(), "reading the event log"); !s.ok()) return s;
    return uint64_t{0};
  }
  return DecodeBigEndianKey(it->key().ToStringView());
}

absl::Status RocksEventLog::TruncateBefore(uint64_t seq) {
  std::unique_ptr<rocksdb::Iterator> it = db_->NewIterator(Family::kEvents);
  it->SeekForPrev(BigEndianKey(seq));  // the record that may hold seq: keep it
  if (!it->Valid()) return FromRocks(it->status(), "truncating the event log");
  const std::string keep = it->key().ToString();
  const std::string begin = BigEndianKey(0);
  if (keep == begin) return absl::OkStatus();
  it.reset();
  // The files below `keep` outside level 0 go at once (no read, no rewrite); a range
  // tombstone hides the rest (the memtables', level 0's and a file that straddles
  // `keep`), and compacting the range frees their space.
  if (absl::Status s = db_->DeleteFilesInRange(Family::kEvents, begin, keep); !s.ok()) return s;
  rocksdb::WriteBatch batch;
  db_->DeleteRange(batch, Family::kEvents, begin, keep);
  if (absl::Status s = db_->Write(batch, false); !s.ok()) return s;
  return db_->CompactRange(Family::kEvents, begin, keep);
}

uint64_t RocksEventLog::ApproximateBytes() {
  return db_->ApproximateSize(Family::kEvents, BigEndianKey(0), BigEndianKey(~uint64_t{0}));
}

}  // namespace streamrec::storage
