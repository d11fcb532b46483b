// Log record codec: the one encoding of an event-log record (a group of consecutive log
// entries: events and flush markers, storage/event_log.h), with its format version.
//
//   format 1 (written by builds before records carried a format; still read):
//     u32 n (>= 1), n x event, checksum
//   format 2 (still read), 3 (written for records of events only):
//     u32 0 (a format-1 record never starts with 0), u32 format, u32 n (>= 1),
//     n x event, checksum
//   format 4 (written only for records that hold a flush marker):
//     u32 0, u32 4, u32 n (>= 1 entries), n x entry, checksum
//     entry: u32 kind: 0 = an event (format 3's event follows), 1 = a flush marker
//            (nothing follows); any other kind is malformed
//   event: f32 label, f32 weight, u64 time_unix_ms, string event_id, u32 k,
//          k x feature
//   feature, formats 1 and 2: u64 hash, f32 value (read with field 0, unknown)
//   feature, formats 3 and 4: u64 hash, f32 value, u32 field
//   format 5 (written by default; half the bytes of format 3 for click-log events):
//     u32 0, u32 5, u32 n (>= 1 entries), varint m, m x u32 field (the record's distinct
//     field ids, in order of first use), n x entry, checksum
//     entry: u8 kind (0 = an event, 1 = a flush marker: nothing follows)
//     event: f32 label, f32 weight, varint zigzag(time_unix_ms minus the previous
//            event's in the record, 0 before the first), varint length + bytes
//            event_id, varint k, k x feature
//     feature: varint tag = index << 2 | same_hash << 1 | one, then u64 hash unless
//              same_hash, then f32 value unless one; index: of the feature's field in
//              the table; same_hash: the hash of the record's previous feature of that
//              field; one: the value is exactly 1.0f (a category)
//   (varint: LEB128; zigzag: 2x for x >= 0, -2x - 1 below.)
// Every entry takes one sequence number: the record at first_seq holds first_seq ..
// first_seq + n - 1. RecordEncoding::kLegacy writes formats 3 and 4 as before, for a log
// that a build older than format 5 must still read (--log_record_format=3, for a staged
// rollout or a downgrade). A record of a format this build does not know is DataLoss
// naming both formats, never misread. Pure functions; thread-compatible.
#ifndef STREAMREC_STORAGE_LOG_RECORD_H_
#define STREAMREC_STORAGE_LOG_RECORD_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/encoding.h"
#include "storage/event_log.h"

namespace streamrec::storage {

// The newest format this build reads and writes.
inline constexpr uint32_t kLogRecordFormat = 5;
inline constexpr uint32_t kLogRecordEventsFormat = 3;

enum class RecordEncoding {
  kCompact,  // format 5
  kLegacy,   // format 3, or 4 when an entry is a flush marker
};

// EncodeRecord: the sealed record of `entries` (at least one).
std::string EncodeRecord(const std::vector<LogEntry>& entries,
                         RecordEncoding encoding = RecordEncoding::kCompact);

// RecordReader: the entries of one sealed record, in order. Check status() after Next
// returns false (DataLoss naming `first_seq` on a damaged or unknown record).
class RecordReader {
 public:
  RecordReader(std::string_view sealed, uint64_t first_seq);
  // count: the record's entries (events and markers), i.e. the sequence numbers it takes.
  uint32_t count() const { return n_; }
  uint32_t format() const { return format_; }
  // Next decodes the next entry: an event into `example` and `event_id`, or a flush
  // marker (flush() is then true, and `example` and `event_id` are left as they were);
  // false at the end or on error.
  bool Next(model::Example& example, std::string& event_id);
  // flush: the entry the last successful Next read is a flush marker.
  bool flush() const { return flush_; }
  const absl::Status& status() const { return status_; }

 private:
  bool Fail(const std::string& why);
  bool NextCompact(model::Example& example, std::string& event_id);
  bool CheckLabelAndWeight(const model::Example& example, uint64_t seq);
  const uint64_t first_seq_;
  // Format 5: the field table, and per field the last hash read (has_last_ says whether
  // there is one).
  std::vector<uint32_t> fields_;
  std::vector<uint64_t> last_hash_;
  std::vector<uint8_t> has_last_;
  int64_t last_time_ = 0;
  std::string_view payload_;
  Reader reader_{std::string_view()};
  uint32_t format_ = 0;
  uint32_t n_ = 0;
  uint32_t read_ = 0;
  bool flush_ = false;
  absl::Status status_;
};

}  // namespace streamrec::storage

#endif  // STREAMREC_STORAGE_LOG_RECORD_H_
