// `streamrec replay FILE|-`: reads events (client/event_formats.h) and streams them
// through ObserveStream (client/replay_stream.h) with a live progress line, then reports
// the server's own progressive metrics (client/replay_report.h). A replay that fails
// prints no summary: its error, how many of the events sent were acknowledged and the
// first line not acknowledged (where to resume). `--resume_from LINE` skips the lines
// before LINE (counted in the summary), so a replay the server's shutdown ended can be
// finished exactly: the server acknowledged everything before that line and accepted
// nothing after it.
//
// Threads: the main thread reads and sends, parsing threads parse (client/replay_reader.h);
// a progress thread prints a line every second from the stream's atomic counters.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "client/commands.h"
#include "client/event_formats.h"
#include "client/event_ids.h"
#include "client/exit_codes.h"
#include "client/flag_values.h"
#include "client/replay_reader.h"
#include "client/replay_report.h"
#include "client/replay_stream.h"
#include "client/words.h"

namespace streamrec::client {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

std::string Duration(double s) {
  char buf[32];
  const long t = static_cast<long>(s);
  std::snprintf(buf, sizeof(buf), "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  return buf;
}

const char* FormatName(Format f) {
  return f == Format::kCriteo ? "criteo" : f == Format::kCsv ? "csv" : "jsonl";
}

// Progress prints "sent N  acked N  ... ev/s ..." to stderr every second until Stop.
class Progress {
 public:
  Progress(Connection& conn, const ReplayStream& stream, double file_size, bool quiet)
      : conn_(conn), stream_(stream), file_size_(file_size), quiet_(quiet),
        tty_(isatty(STDERR_FILENO)), thread_([this] { Run(); }) {}
  void AddBytes(uint64_t n) { bytes_read_ += n; }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
    if (tty_ && printed_) std::fprintf(stderr, "\n");
  }

 private:
  void Run() {
    uint64_t last_acked = 0;
    auto last_time = Clock::now();
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::seconds(1), [&] { return done_; })) {
      if (quiet_) continue;
      v1::Stats st;
      const bool stats =
          conn_.admin().GetStats(conn_.Context().get(), v1::GetStatsRequest(), &st).ok();
      const uint64_t a = stream_.acked();
      const double rate_now = (a - last_acked) / Seconds(last_time);
      last_acked = a;
      last_time = Clock::now();
      const double elapsed = Seconds(start_);
      std::string eta;
      if (file_size_ > 0 && bytes_read_.load() > 0) {
        const double f = bytes_read_.load() / file_size_;
        eta = "  ETA " + Duration(elapsed * (1 - f) / f);
      }
      // The server's metrics only when it answered (a stopping server does not: no zeros).
      char metrics[128] = "";
      if (stats) {
        std::snprintf(metrics, sizeof metrics, "  logloss %.4f  AUC %.4f (last %lu)",
                      st.progressive_window().logloss(), st.progressive_window().auc(),
                      static_cast<unsigned long>(st.metrics_window()));
      }
      std::fprintf(stderr, "%ssent %lu  acked %lu  %.0f ev/s%s  elapsed %s%s%s",
                   tty_ ? "\r\033[K" : "", static_cast<unsigned long>(stream_.sent()),
                   static_cast<unsigned long>(a), rate_now, metrics, Duration(elapsed).c_str(),
                   eta.c_str(), tty_ ? "" : "\n");
      printed_ = true;
    }
  }

  Connection& conn_;
  const ReplayStream& stream_;
  const double file_size_;
  const bool quiet_, tty_;
  const Clock::time_point start_ = Clock::now();
  std::atomic<uint64_t> bytes_read_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  bool printed_ = false;  // progress thread, then read after join
  std::thread thread_;
};

// ParseWorkers: the threads parsing the input, one per core (at most 8): they wait when
// the server is the bottleneck, and take every core when the client is.
int ParseWorkers() {
  return static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 8u));
}

}  // namespace

int RunReplay(const Args& args, Connection& conn, bool json) {
  if (args.positional().size() != 2) return UsageError("replay takes one FILE (or - for stdin)");
  const std::string path = args.positional()[1];
  const std::string source = path == "-" ? "<stdin>" : path;
  long long batch_size = 0, rate = 0, report_every = 0, resume_from = 0;
  for (std::string err : {WholeFlag(args, "batch", 500, batch_size, 1),
                          WholeFlag(args, "rate", 0, rate, 0),
                          WholeFlag(args, "report_every", 10000, report_every, 1),
                          WholeFlag(args, "resume_from", 1, resume_from, 1)}) {
    if (!err.empty()) return UsageError(err);
  }
  std::optional<Format> format;
  if (auto f = args.Get("format")) {
    format = ParseFormat(*f);
    if (!format) return UsageError("--format must be jsonl, criteo or csv, not \"" + *f + "\"");
  }
  CsvLayout layout;
  if (auto l = args.Get("label")) layout.label = *l;
  if (auto i = args.Get("item")) layout.item = *i;
  if (auto n = args.Get("numeric")) {
    std::string column;
    for (char c : *n + ",") {
      if (c != ',') {
        column += c;
      } else if (!column.empty()) {
        layout.numeric.push_back(column);
        column.clear();
      }
    }
  }
  if ((args.Has("label") || args.Has("item") || args.Has("numeric")) &&
      format != Format::kCsv) {
    return UsageError("--label, --item and --numeric are for --format csv");
  }
  const bool skip_header = args.Has("skip_header");
  if (skip_header && format == Format::kCsv) {
    return UsageError("--skip_header is for criteo and jsonl; a csv file's header names "
                      "its columns");
  }
  const bool skip_bad = args.Has("skip_bad");
  const std::optional<std::string> report_path = args.Get("report");
  // Each event without its own event_id gets "RUN:LINE", so that a resent line (the same
  // run id: --run_id) is dropped by the server's de-duplication and a new run trains again.
  const bool event_ids = !args.Has("no_event_ids");
  std::string run_id;
  if (!event_ids && args.Has("run_id")) {
    return UsageError("--run_id names the event ids --no_event_ids turns off");
  }
  if (event_ids) {
    if (std::string err = RunIdFlag(args, run_id); !err.empty()) return UsageError(err);
  }

  std::ifstream file;
  std::istream* in = &std::cin;
  double file_size = 0;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) {
      std::fprintf(stderr, "streamrec: replay: cannot read %s\n", path.c_str());
      return kExitInput;
    }
    file.seekg(0, std::ios::end);
    file_size = static_cast<double>(file.tellg());
    file.seekg(0);
    in = &file;
  }

  v1::Stats before;
  grpc::Status s = conn.admin().GetStats(conn.Context().get(), v1::GetStatsRequest(), &before);
  if (!s.ok()) return conn.Fail("replay", s);

  if (event_ids) {
    std::fprintf(stderr, "streamrec: replay: run id %s; resume exactly with --run_id %s "
                 "[--resume_from LINE]\n", run_id.c_str(), run_id.c_str());
  }
  const auto start = Clock::now();
  ReplayStream stream(conn, {source, skip_bad, static_cast<uint64_t>(report_every)});
  Progress progress(conn, stream, file_size, args.Has("quiet"));

  // Read, parse (client/replay_reader.h: parsing threads, unless --rate paces each event)
  // and send.
  ReplayReader::Options reading;
  reading.source = source;
  reading.format = format;
  reading.layout = layout;
  reading.skip_header = skip_header;
  reading.skip_bad = skip_bad;
  reading.resume_from = static_cast<uint64_t>(resume_from);
  reading.event_ids = event_ids;
  reading.run_id = run_id;
  reading.batch = rate > 0 ? 1 : static_cast<int>(batch_size);
  reading.workers = rate > 0 ? 0 : ParseWorkers();
  ReplayReader reader(*in, reading, [&](uint64_t n) { progress.AddBytes(n); });
  bool stream_failed = false;
  ReplayBatch batch;
  if (rate == 0) {
    while (!stream_failed && reader.Next(batch)) stream_failed = !stream.Send(std::move(batch));
  } else {
    // The events read and not sent yet, one sealed request each, joined at the flush.
    std::vector<ReplayBatch> held;
    auto flush = [&] {
      if (held.empty() || stream_failed) return;
      std::vector<grpc::Slice> holds(held.size());
      std::vector<std::string_view> events;
      std::vector<uint64_t> lines;
      for (size_t i = 0; i < held.size(); ++i) {
        for (std::string_view e : held[i].EventBytes(holds[i])) events.push_back(e);
        lines.insert(lines.end(), held[i].lines.begin(), held[i].lines.end());
      }
      stream_failed = !stream.Send(ReplayBatch::FromEvents(events, std::move(lines)));
      held.clear();
    };
    while (reader.Next(batch)) {  // one event
      held.push_back(std::move(batch));
      if (static_cast<long long>(held.size()) >= batch_size) flush();
      if (stream_failed) break;
      const auto due = start + std::chrono::duration<double>(
                                   static_cast<double>(stream.sent() + held.size()) / rate);
      if (due > Clock::now()) {
        flush();
        std::this_thread::sleep_until(due);
      }
    }
    flush();
  }
  if (stream_failed) reader.Stop();
  std::string input_error = reader.input_error();
  const uint64_t input_error_line = reader.input_error_line();
  const uint64_t line_number = reader.lines(), malformed = reader.malformed(),
                 skipped_lines = reader.skipped_lines();
  const std::vector<std::string>& malformed_examples = reader.malformed_examples();
  format = reader.format();
  if (input_error.empty() && resume_from > 1 &&
      line_number + 1 < static_cast<uint64_t>(resume_from)) {  // a mistyped resume line
    input_error = "--resume_from " + std::to_string(resume_from) + " is past the end of " +
                  source + " (" + Counted(line_number, "line") + ")";
  }
  const bool ok = !stream_failed && stream.Finish();
  progress.Stop();
  for (const std::string& m : malformed_examples) std::fprintf(stderr, "skipped %s\n", m.c_str());
  for (const std::string& m : stream.rejected_examples()) {
    std::fprintf(stderr, "skipped %s\n", m.c_str());
  }

  if (!ok || !input_error.empty()) {
    int code = kExitInput;
    if (!ok && stream.shutting_down()) {
      // The server stopped: it says what it acknowledged on the stream, and accepted
      // nothing else (README, API). Whatever the channel's state by now, it was reached.
      code = kExitConnection;
      std::fprintf(stderr, "streamrec: replay: the server is shutting down (UNAVAILABLE: %s)\n",
                   stream.status().error_message().c_str());
      if (*stream.server_acknowledged() != stream.stream_acknowledged()) {
        std::fprintf(stderr, "streamrec: replay: the server acknowledged %lu events on the "
                     "last stream, this client received %lu of those acknowledgements\n",
                     static_cast<unsigned long>(*stream.server_acknowledged()),
                     static_cast<unsigned long>(stream.stream_acknowledged()));
      }
    } else if (!ok) {
      // The server ended the stream with an error (an invalid or unparseable request), or
      // with OK before acknowledging everything.
      code = stream.status().ok() ? kExitServer : conn.Fail("replay", stream.status());
      if (stream.status().ok()) {
        std::fprintf(stderr, "streamrec: replay: the server ended the stream early\n");
      }
    }
    if (!input_error.empty()) {
      std::fprintf(stderr, "streamrec: replay: %s%s\n", ok ? "" : "also, ", input_error.c_str());
    }
    std::optional<uint64_t> resume = stream.first_unacknowledged_line();
    if (!resume && input_error_line > 0) resume = input_error_line;
    std::string where;
    if (resume) where = "; the first unacknowledged line is " + source + ":" +
                        std::to_string(*resume);
    std::string dups;
    if (stream.duplicates() > 0) {
      dups = " (" + Counted(stream.duplicates(), "duplicate") + " not trained again)";
    }
    std::fprintf(stderr, "streamrec: replay: %lu of the %s sent %s acknowledged%s%s\n",
                 static_cast<unsigned long>(stream.acked()),
                 Counted(stream.sent(), "event").c_str(), WasWere(stream.acked()), dups.c_str(),
                 where.c_str());
    // With event ids, resending lines the server did log is harmless (it drops them), so
    // the hint is exact even after a lost acknowledgement or a crash of either side.
    const std::string same_run = event_ids ? " --run_id " + run_id : "";
    // The command to paste: the same server, the same input (stdin fed again).
    const std::string hint =
        resume ? "streamrec: replay: to send the rest once the server is back: streamrec "
                 "--server " + conn.target() + " replay " + path + " --resume_from " +
                 std::to_string(*resume) + same_run +
                 (path == "-" ? "  (with the same input on stdin)" : "") + "\n"
               : "";
    if (!ok && stream.shutting_down()) {
      if (resume && input_error.empty()) {
        std::fprintf(stderr, "%s", hint.c_str());
      } else if (!resume && input_error.empty() && !stream_failed) {
        std::fprintf(stderr, "streamrec: replay: every event of %s was acknowledged\n",
                     source.c_str());
      }
    } else if (!ok && code == kExitConnection && event_ids && resume && input_error.empty()) {
      // The server went away without saying what it logged (a crash, a lost connection):
      // lines it logged but did not acknowledge are resent and dropped as duplicates.
      std::fprintf(stderr, "%s", hint.c_str());
    }
    return code;
  }

  // Wait until the server has trained everything acknowledged, then read its metrics.
  ReplaySummary summary;
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  for (;;) {
    s = conn.admin().GetStats(conn.Context().get(), v1::GetStatsRequest(), &summary.after);
    if (!s.ok()) return conn.Fail("replay", s);
    // Duplicates are acknowledged but not trained (nor counted in events_applied).
    if (summary.after.events_applied() >=
            before.events_applied() + stream.acked() - stream.duplicates() ||
        Clock::now() > deadline) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  summary.file = path;
  summary.format = FormatName(format.value_or(Format::kJsonl));
  summary.sent = stream.sent();
  summary.acknowledged = stream.acked();
  summary.duplicates = stream.duplicates();
  summary.run_id = run_id;
  summary.malformed_lines = malformed;
  summary.skipped_lines = skipped_lines;
  summary.resume_from = static_cast<uint64_t>(resume_from);
  summary.rejected_events = stream.rejected();
  summary.seconds = Seconds(start);
  if (report_path) {
    std::ofstream out(*report_path);
    out << ReportJson(summary, stream.curve());
    if (!out) {
      std::fprintf(stderr, "streamrec: replay: cannot write %s\n", report_path->c_str());
      return kExitInput;
    }
  }
  if (json) {
    std::printf("%s\n", SummaryJson(summary).c_str());
  } else {
    std::fputs(SummaryText(summary).c_str(), stdout);
  }
  return kExitOk;
}

}  // namespace streamrec::client
