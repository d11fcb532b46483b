// Log record codec: the one encoding of an event-log record (a group of consecutive
// events), with its format version.
//
//   format 1 (written by builds before records carried a format; still read):
//     u32 n (>= 1), n x event, checksum
//   format 2 (still read), 3 (written now):
//     u32 0 (a format-1 record never starts with 0), u32 format, u32 n (>= 1),
//     n x event, checksum
//   event: f32 label, f32 weight, u64 time_unix_ms, string event_id, u32 k,
//          k x feature
//   feature, formats 1 and 2: u64 hash, f32 value (read with field 0, unknown)
//   feature, format 3:        u64 hash, f32 value, u32 field
// A record of a format this build does not know is DataLoss naming both formats, never
// misread. Pure functions; thread-compatible.
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

inline constexpr uint32_t kLogRecordFormat = 3;

// EncodeRecord: the sealed record of `entries` (at least one).
std::string EncodeRecord(const std::vector<LogEntry>& entries);

// RecordReader: the events of one sealed record, in order. Check status() after Next
// returns false (DataLoss naming `first_seq` on a damaged or unknown record).
class RecordReader {
 public:
  RecordReader(std::string_view sealed, uint64_t first_seq);
  uint32_t count() const { return n_; }
  uint32_t format() const { return format_; }
  // Next decodes the next event into `example` and `event_id`; false at the end or on
  // error.
  bool Next(model::Example& example, std::string& event_id);
  const absl::Status& status() const { return status_; }

 private:
  bool Fail(const std::string& why);
  const uint64_t first_seq_;
  std::string_view payload_;
  Reader reader_{std::string_view()};
  uint32_t format_ = 0;
  uint32_t n_ = 0;
  uint32_t read_ = 0;
  absl::Status status_;
};

}  // namespace streamrec::storage

#endif  // STREAMREC_STORAGE_LOG_RECORD_H_
