// ReplayReader: the input of one `streamrec replay` as ObserveRequests of `batch` events,
// in file order, with each event's line. It applies replay's rules for lines: blank lines
// are skipped, --skip_header skips line 1, the format is detected from the first line
// read (unless given), a csv header is read, lines before --resume_from are skipped and
// counted, every event without an event_id gets "RUN:LINE" (client/event_ids.h), and a
// malformed line either ends the input (the requests before it hold every event before
// it; input_error() names it) or, with skip_bad, is counted and its first five reasons
// kept.
//
// With workers > 0 Next reads ahead (on the calling thread: reading is cheap, and a
// blocked read of stdin blocks nothing else) and `workers` threads parse, `batch` lines
// at a time, so parsing overlaps sending and uses several cores. The requests are the
// same as parsing in order: each has `batch` events (the last, or the one before an input
// error, fewer), the events after a skipped malformed line moving forward. The requests
// come sealed (serialized by the thread that parsed them; ReplayBatch). With workers == 0
// Next reads and parses on the calling thread.
//
// Thread-compatible: one thread calls Next and Stop, then reads the results. The
// destructor stops and joins the parsing threads (which never wait on the input).
#ifndef STREAMREC_CLIENT_REPLAY_READER_H_
#define STREAMREC_CLIENT_REPLAY_READER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <istream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "client/event_formats.h"
#include "client/replay_stream.h"

namespace streamrec::client {

class ReplayReader {
 public:
  struct Options {
    std::string source;             // the input's name in messages
    std::optional<Format> format;   // detected from the first line when unset
    CsvLayout layout;
    bool skip_header = false;
    bool skip_bad = false;
    uint64_t resume_from = 1;       // lines before it are skipped
    bool event_ids = true;          // "RUN:LINE" for events without an id
    std::string run_id;
    int batch = 500;                // events per request, >= 1
    int workers = 0;                // parsing threads; 0: parse in Next
  };

  // `in` must outlive the reader; on_bytes(n) is called (in Next) with the bytes of each
  // line read, newline included.
  ReplayReader(std::istream& in, Options options, std::function<void(uint64_t)> on_bytes);
  ~ReplayReader();
  ReplayReader(const ReplayReader&) = delete;
  ReplayReader& operator=(const ReplayReader&) = delete;

  // Next: the next request; false at the end of the input (or after an input error, or
  // Stop).
  bool Next(ReplayBatch& batch);
  // Stop: no more requests are wanted (the stream failed): Next returns false from now
  // on, and the parsing threads end soon.
  void Stop();

  // After Next returned false: the error that ended the input ("FILE:LINE: reason"; empty
  // at the end of the input) and its line; lines read; malformed lines skipped and the
  // first five "FILE:LINE: reason"; lines skipped before resume_from; the format (unset
  // when no line was read).
  const std::string& input_error() const { return input_error_; }
  uint64_t input_error_line() const { return input_error_line_; }
  uint64_t lines() const { return lines_; }
  uint64_t malformed() const { return malformed_; }
  const std::vector<std::string>& malformed_examples() const { return malformed_examples_; }
  uint64_t skipped_lines() const { return skipped_lines_; }
  std::optional<Format> format() const { return options_.format; }

 private:
  // Job: up to `batch` data lines, then (once parsed) their events and malformed lines.
  struct Job {
    std::vector<std::string> text;
    std::vector<uint64_t> numbers;
    ReplayBatch batch;
    std::vector<std::pair<uint64_t, std::string>> errors;  // line, reason
    bool done = false;
  };

  // ReadJob fills `job` with the next data lines; false when it read none (the end of
  // the input, or a csv header error: header_error_).
  bool ReadJob(Job& job);
  // ParseJob parses job's lines with `parser`; without skip_bad it stops at the first
  // malformed line.
  void ParseJob(EventParser& parser, Job& job) const;
  void WorkLoop(EventParser parser);
  void StopWorkers();
  // Absorb takes a parsed job's results: errors counted (or the input ends), events
  // appended to out_, full requests to ready_.
  void Absorb(Job& job);

  std::istream& in_;
  Options options_;
  const std::function<void(uint64_t)> on_bytes_;

  // Next's thread only.
  std::optional<EventParser> parser_;  // once the format is known (and the csv header read)
  bool eof_ = false;
  std::string header_error_;
  uint64_t header_error_line_ = 0;
  std::deque<std::unique_ptr<Job>> in_order_;  // read, in file order, parsed or not
  std::vector<std::thread> workers_;           // started with the first job
  bool finished_ = false;
  bool abandoned_ = false;  // Stop was called
  ReplayBatch out_;
  std::deque<ReplayBatch> ready_;
  std::string input_error_;
  uint64_t input_error_line_ = 0;
  uint64_t lines_ = 0;
  uint64_t malformed_ = 0;
  std::vector<std::string> malformed_examples_;
  uint64_t skipped_lines_ = 0;

  // Shared with the parsing threads.
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job*> to_parse_;  // guarded by mu_, as are the jobs' `done` and their results
  bool stop_ = false;          // guarded by mu_ until done
};

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_REPLAY_READER_H_
