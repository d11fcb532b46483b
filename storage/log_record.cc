#include "storage/log_record.h"

#include <cmath>
#include <cstring>

#include "absl/container/flat_hash_map.h"

#include "absl/strings/str_cat.h"

namespace streamrec::storage {

namespace {

constexpr uint32_t kEntryEvent = 0;
constexpr uint32_t kEntryFlush = 1;

std::string EncodeLegacy(const std::vector<LogEntry>& entries) {
  bool markers = false;
  for (const LogEntry& e : entries) markers |= e.is_flush();
  // Records without a marker stay format 3, which earlier builds read.
  const uint32_t format = markers ? 4 : kLogRecordEventsFormat;
  size_t bytes = 20;
  for (const LogEntry& e : entries) {
    bytes += 4;
    if (!e.is_flush()) bytes += 24 + e.event_id->size() + 16 * e.example->features.size();
  }
  std::string value;
  value.reserve(bytes);
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

uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }
// The difference of two times as the wrapping two's-complement int64 (exact both ways).
int64_t TimeDelta(int64_t t, int64_t prev) {
  return static_cast<int64_t>(static_cast<uint64_t>(t) - static_cast<uint64_t>(prev));
}

bool IsOne(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  return bits == 0x3f800000u;  // exactly 1.0f (not -0, not a NaN payload)
}

std::string EncodeCompact(const std::vector<LogEntry>& entries) {
  // The field table first: each distinct field, in order of first use.
  absl::flat_hash_map<uint32_t, uint32_t> index;
  std::vector<uint32_t> fields;
  size_t bytes = 24, features = 0;
  for (const LogEntry& e : entries) {
    ++bytes;
    if (e.is_flush()) continue;
    bytes += 30 + e.event_id->size();
    features += e.example->features.size();
    for (const model::HashedFeature& f : e.example->features) {
      if (index.try_emplace(f.field, static_cast<uint32_t>(fields.size())).second) {
        fields.push_back(f.field);
      }
    }
  }
  bytes += 5 * fields.size() + 13 * features;
  std::vector<uint64_t> last_hash(fields.size());
  std::vector<uint8_t> has_last(fields.size(), 0);
  std::string value;
  value.reserve(bytes);
  PutU32(value, 0);
  PutU32(value, 5);
  PutU32(value, static_cast<uint32_t>(entries.size()));
  PutVarint(value, fields.size());
  for (uint32_t f : fields) PutU32(value, f);
  int64_t last_time = 0;
  for (const LogEntry& e : entries) {
    value.push_back(static_cast<char>(e.is_flush() ? kEntryFlush : kEntryEvent));
    if (e.is_flush()) continue;
    const model::Example& ex = *e.example;
    PutF32(value, ex.label);
    PutF32(value, ex.weight);
    PutVarint(value, ZigZag(TimeDelta(ex.time_unix_ms, last_time)));
    last_time = ex.time_unix_ms;
    PutVarint(value, e.event_id->size());
    value.append(*e.event_id);
    PutVarint(value, ex.features.size());
    for (const model::HashedFeature& f : ex.features) {
      const uint32_t i = index.find(f.field)->second;
      const bool same = has_last[i] && last_hash[i] == f.hash;
      const bool one = IsOne(f.value);
      PutVarint(value, uint64_t{i} << 2 | uint64_t{same} << 1 | uint64_t{one});
      if (!same) PutU64(value, f.hash);
      if (!one) PutF32(value, f.value);
      last_hash[i] = f.hash;
      has_last[i] = 1;
    }
  }
  Seal(value);
  return value;
}

}  // namespace

std::string EncodeRecord(const std::vector<LogEntry>& entries, RecordEncoding encoding) {
  return encoding == RecordEncoding::kLegacy ? EncodeLegacy(entries) : EncodeCompact(entries);
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
  if (!reader_.GetU32(n_) || n_ == 0) {
    Fail("is empty");
    return;
  }
  if (format_ == 5) {
    uint64_t m = 0;
    if (!reader_.GetVarint(m) || m > reader_.remaining() / 4) {
      Fail("is malformed (field table)");
      return;
    }
    fields_.resize(m);
    for (uint32_t& f : fields_) reader_.GetU32(f);
    last_hash_.assign(m, 0);
    has_last_.assign(m, 0);
  }
}

bool RecordReader::Fail(const std::string& why) {
  status_ = absl::DataLossError(absl::StrCat("event log record at seq ", first_seq_, " ", why));
  n_ = 0;
  return false;
}

bool RecordReader::CheckLabelAndWeight(const model::Example& ex, uint64_t seq) {
  // What the API would have refused never came from it: a damaged record, not training.
  if (!(ex.label >= 0.0f && ex.label <= 1.0f)) {
    return Fail(absl::StrCat("holds event ", seq, " with label ", ex.label,
                             ", outside [0, 1]"));
  }
  if (!std::isfinite(ex.weight) || ex.weight < 0.0f) {
    return Fail(absl::StrCat("holds event ", seq, " with weight ", ex.weight,
                             ", not a finite value >= 0"));
  }
  return true;
}

bool RecordReader::Next(model::Example& ex, std::string& event_id) {
  if (!status_.ok()) return false;
  if (read_ == n_) {
    return reader_.done() ? false : Fail("is malformed (trailing bytes)");
  }
  flush_ = false;
  if (format_ == 5) return NextCompact(ex, event_id);
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
  const uint64_t seq = first_seq_ + read_;
  if (!CheckLabelAndWeight(ex, seq)) return false;
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

bool RecordReader::NextCompact(model::Example& ex, std::string& event_id) {
  uint8_t kind = 0;
  if (!reader_.GetU8(kind)) return Fail("is malformed");
  if (kind != kEntryEvent && kind != kEntryFlush) {
    return Fail(absl::StrCat("is malformed (entry ", first_seq_ + read_, " has kind ",
                             int{kind}, ")"));
  }
  if (kind == kEntryFlush) {
    flush_ = true;
    ++read_;
    return true;
  }
  uint64_t time_zz = 0, id_size = 0, features = 0;
  reader_.GetF32(ex.label);
  reader_.GetF32(ex.weight);
  reader_.GetVarint(time_zz);
  if (!reader_.GetVarint(id_size) || id_size > reader_.remaining()) return Fail("is malformed");
  event_id.resize(id_size);
  // Each feature takes at least one byte: never size the buffer beyond what the record holds.
  if (!reader_.GetBytes(event_id.data(), id_size) || !reader_.GetVarint(features) ||
      features > reader_.remaining()) {
    return Fail("is malformed");
  }
  last_time_ = static_cast<int64_t>(static_cast<uint64_t>(last_time_) +
                                    static_cast<uint64_t>(UnZigZag(time_zz)));
  ex.time_unix_ms = last_time_;
  const uint64_t seq = first_seq_ + read_;
  if (!CheckLabelAndWeight(ex, seq)) return false;
  ex.features.resize(features);
  for (model::HashedFeature& f : ex.features) {
    uint64_t tag = 0;
    if (!reader_.GetVarint(tag) || (tag >> 2) >= fields_.size()) return Fail("is malformed");
    const size_t i = tag >> 2;
    f.field = fields_[i];
    if (tag & 2) {
      if (!has_last_[i]) return Fail("is malformed (a repeated hash with none before)");
      f.hash = last_hash_[i];
    } else if (!reader_.GetU64(f.hash)) {
      return Fail("is malformed");
    }
    f.value = 1.0f;
    if (!(tag & 1) && !reader_.GetF32(f.value)) return Fail("is malformed");
    if (!std::isfinite(f.value)) {
      return Fail(absl::StrCat("holds event ", seq, " with a non-finite feature value"));
    }
    last_hash_[i] = f.hash;
    has_last_[i] = 1;
  }
  ++read_;
  return true;
}

}  // namespace streamrec::storage
