#include "storage/event_log.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "storage/encoding.h"

namespace streamrec::storage {
namespace {

// OpenRecord verifies the record under `it` and returns a reader positioned after its
// event count, with its first sequence number and count.
absl::StatusOr<Reader> OpenRecord(const rocksdb::Iterator& it, uint64_t& first, uint32_t& n) {
  first = DecodeBigEndianKey(it.key().ToStringView());
  std::string_view payload;
  if (!Unseal(it.value().ToStringView(), payload)) {
    return absl::DataLossError(absl::StrCat("event log record at seq ", first, " is corrupt"));
  }
  Reader r(payload);
  if (!r.GetU32(n) || n == 0) {
    return absl::DataLossError(absl::StrCat("event log record at seq ", first, " is empty"));
  }
  return r;
}

}  // namespace

absl::Status EventLog::Append(uint64_t first_seq, const std::vector<LogEntry>& entries,
                              bool sync) {
  rocksdb::WriteBatch batch;
  AddRecord(first_seq, entries, batch);
  return db_->Write(batch, sync);
}

void EventLog::AddRecord(uint64_t first_seq, const std::vector<LogEntry>& entries,
                         rocksdb::WriteBatch& batch) {
  std::string value;
  PutU32(value, static_cast<uint32_t>(entries.size()));
  for (const LogEntry& e : entries) {
    const model::Example& ex = *e.example;
    PutF32(value, ex.label);
    PutF32(value, ex.weight);
    PutU64(value, static_cast<uint64_t>(ex.time_unix_ms));
    PutString(value, *e.event_id);
    PutU32(value, static_cast<uint32_t>(ex.features.size()));
    for (const model::HashedFeature& f : ex.features) {
      PutU64(value, f.hash);
      PutF32(value, f.value);
    }
  }
  Seal(value);
  db_->Put(batch, Family::kEvents, BigEndianKey(first_seq), value);
}

absl::Status EventLog::Replay(
    uint64_t after, const std::function<void(uint64_t, model::Example&, std::string&)>& fn) {
  std::unique_ptr<rocksdb::Iterator> it = db_->NewIterator(Family::kEvents);
  // Start at the record that may contain after + 1.
  it->SeekForPrev(BigEndianKey(after + 1));
  if (!it->Valid()) it->SeekToFirst();
  for (; it->Valid(); it->Next()) {
    uint64_t first = 0;
    uint32_t n = 0;
    absl::StatusOr<Reader> record = OpenRecord(*it, first, n);
    if (!record.ok()) return record.status();
    Reader& r = *record;
    model::Example ex;
    std::string event_id;
    for (uint32_t i = 0; i < n; ++i) {
      uint64_t time = 0;
      uint32_t features = 0;
      r.GetF32(ex.label);
      r.GetF32(ex.weight);
      r.GetU64(time);
      r.GetString(event_id);
      r.GetU32(features);
      // 12 bytes per feature: never size the buffer beyond what the record holds.
      if (!r.ok() || features > r.remaining() / 12) break;
      ex.time_unix_ms = static_cast<int64_t>(time);
      ex.features.resize(features);
      for (auto& f : ex.features) {
        r.GetU64(f.hash);
        r.GetF32(f.value);
      }
      if (!r.ok()) break;
      if (first + i > after) fn(first + i, ex, event_id);
    }
    if (!r.done()) {
      return absl::DataLossError(absl::StrCat("event log record at seq ", first, " is malformed"));
    }
  }
  return FromRocks(it->status(), "reading the event log");
}

absl::StatusOr<uint64_t> EventLog::LastSeq() {
  std::unique_ptr<rocksdb::Iterator> it = db_->NewIterator(Family::kEvents);
  it->SeekToLast();
  if (!it->Valid()) {
    if (absl::Status s = FromRocks(it->status(), "reading the event log"); !s.ok()) return s;
    return uint64_t{0};
  }
  uint64_t first = 0;
  uint32_t n = 0;
  absl::StatusOr<Reader> record = OpenRecord(*it, first, n);
  if (!record.ok()) return record.status();
  return first + n - 1;
}

absl::StatusOr<uint64_t> EventLog::FirstSeq() {
  std::unique_ptr<rocksdb::Iterator> it = db_->NewIterator(Family::kEvents);
  it->SeekToFirst();
  if (!it->Valid()) {
    if (absl::Status s = FromRocks(it->status(), "reading the event log"); !s.ok()) return s;
    return uint64_t{0};
  }
  return DecodeBigEndianKey(it->key().ToStringView());
}

absl::Status EventLog::TruncateBefore(uint64_t seq) {
  std::unique_ptr<rocksdb::Iterator> it = db_->NewIterator(Family::kEvents);
  it->SeekForPrev(BigEndianKey(seq));  // the record that may hold seq: keep it
  if (!it->Valid()) return FromRocks(it->status(), "truncating the event log");
  const std::string keep = it->key().ToString();
  const std::string begin = BigEndianKey(0);
  if (keep == begin) return absl::OkStatus();
  it.reset();
  rocksdb::WriteBatch batch;
  db_->DeleteRange(batch, Family::kEvents, begin, keep);
  if (absl::Status s = db_->Write(batch, false); !s.ok()) return s;
  return db_->CompactRange(Family::kEvents, begin, keep);
}

uint64_t EventLog::ApproximateBytes() {
  return db_->ApproximateSize(Family::kEvents, BigEndianKey(0), BigEndianKey(~uint64_t{0}));
}

}  // namespace streamrec::storage
