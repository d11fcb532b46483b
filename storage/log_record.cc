#include "storage/log_record.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace streamrec::storage {

namespace {

constexpr uint32_t kEntryEvent = 0;
constexpr uint32_t kEntryFlush = 1;

}  // namespace

std::string EncodeRecord(const std::vector<LogEntry>& entries) {
  bool markers = false;
  for (const LogEntry& e : entries) markers |= e.is_flush();
  // Records without a marker stay format 3, which earlier builds read.
  const uint32_t format = markers ? kLogRecordFormat : kLogRecordEventsFormat;
  std::string value;
  PutU32(value, 0);
  PutU32(value, format);
  PutU32(value, static_cast<uint32_t>(entries.size()));
  for (const LogEntry& e : entries) {
    if (format >= 4) PutU32(value, e.is_flush() ? kEntryFlush : kEntryEvent);
    if (e.is_flush()) continue;
    const model::Example& ex = *e.example;
    PutF32(value, ex.label);
    PutF32(value, ex.weight);
    PutU64(value, static_cast<uint64_t>(ex.time_unix_ms));
    PutString(value, *e.event_id);
    PutU32(value, static_cast<uint32_t>(ex.features.size()));
    for (const model::HashedFeature& f : ex.features) {
      PutU64(value, f.hash);
      PutF32(value, f.value);
      PutU32(value, f.field);
    }
  }
  Seal(value);
  return value;
}

RecordReader::RecordReader(std::string_view sealed, uint64_t first_seq) : first_seq_(first_seq) {
  if (!Unseal(sealed, payload_)) {
    Fail("is corrupt");
    return;
  }
  reader_ = Reader(payload_);
  uint32_t head = 0;
  if (!reader_.GetU32(head)) {
    Fail("is empty");
    return;
  }
  if (head != 0) {  // format 1: the first word is the event count
    format_ = 1;
    n_ = head;
    return;
  }
  if (!reader_.GetU32(format_)) {
    Fail("is truncated");
    return;
  }
  if (format_ < 2) {  // 0 and 1 are never written after the zero word
    Fail(absl::StrCat("is malformed (format word ", format_, ")"));
    return;
  }
  if (format_ > kLogRecordFormat) {
    Fail(absl::StrCat("has format ", format_, "; this build reads formats 1 to ",
                      kLogRecordFormat));
    return;
  }
  if (!reader_.GetU32(n_) || n_ == 0) Fail("is empty");
}

bool RecordReader::Fail(const std::string& why) {
  status_ = absl::DataLossError(absl::StrCat("event log record at seq ", first_seq_, " ", why));
  n_ = 0;
  return false;
}

bool RecordReader::Next(model::Example& ex, std::string& event_id) {
  if (!status_.ok()) return false;
  if (read_ == n_) {
    return reader_.done() ? false : Fail("is malformed (trailing bytes)");
  }
  flush_ = false;
  if (format_ >= 4) {
    uint32_t kind = 0;
    if (!reader_.GetU32(kind)) return Fail("is malformed");
    if (kind == kEntryFlush) {
      flush_ = true;
      ++read_;
      return true;
    }
    if (kind != kEntryEvent) {
      return Fail(absl::StrCat("is malformed (entry ", first_seq_ + read_, " has kind ", kind,
                               ")"));
    }
  }
  uint64_t time = 0;
  uint32_t features = 0;
  reader_.GetF32(ex.label);
  reader_.GetF32(ex.weight);
  reader_.GetU64(time);
  reader_.GetString(event_id);
  reader_.GetU32(features);
  // 12 or 16 bytes per feature: never size the buffer beyond what the record holds.
  const size_t feature_bytes = format_ >= 3 ? 16 : 12;
  if (!reader_.ok() || features > reader_.remaining() / feature_bytes) {
    return Fail("is malformed");
  }
  ex.time_unix_ms = static_cast<int64_t>(time);
  // What the API would have refused never came from it: a damaged record, not training.
  const uint64_t seq = first_seq_ + read_;
  if (!(ex.label >= 0.0f && ex.label <= 1.0f)) {
    return Fail(absl::StrCat("holds event ", seq, " with label ", ex.label,
                             ", outside [0, 1]"));
  }
  if (!std::isfinite(ex.weight) || ex.weight < 0.0f) {
    return Fail(absl::StrCat("holds event ", seq, " with weight ", ex.weight,
                             ", not a finite value >= 0"));
  }
  ex.features.resize(features);
  for (auto& f : ex.features) {
    reader_.GetU64(f.hash);
    reader_.GetF32(f.value);
    f.field = 0;
    if (format_ >= 3) reader_.GetU32(f.field);
  }
  if (!reader_.ok()) return Fail("is malformed");
  for (const auto& f : ex.features) {
    if (!std::isfinite(f.value)) {
      return Fail(absl::StrCat("holds event ", seq, " with a non-finite feature value"));
    }
  }
  ++read_;
  return true;
}

}  // namespace streamrec::storage
