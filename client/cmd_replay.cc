// `streamrec replay FILE|-`: streams events through ObserveStream with a live progress
// line, and reports the server's own progressive metrics (a curve and final values).
//
// Threads: the main thread reads and sends; a reader thread counts acknowledgements and
// samples the curve; a progress thread prints a line every second. Counters are atomics;
// the curve is written by the reader only and read after it is joined.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "client/commands.h"
#include "client/event_formats.h"
#include "client/exit_codes.h"
#include "client/metrics_text.h"

namespace streamrec::client {
namespace {

using Clock = std::chrono::steady_clock;

struct CurvePoint {
  uint64_t acknowledged = 0;
  v1::Stats stats;
};

std::string MetricsJson(const v1::ProgressiveMetrics& m) { return ToJson(m); }

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

std::string Duration(double s) {
  char buf[32];
  const long t = static_cast<long>(s);
  std::snprintf(buf, sizeof(buf), "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  return buf;
}

bool ParseCount(const Args& args, const std::string& name, long long fallback,
                long long& out) {
  out = fallback;
  auto v = args.Get(name);
  if (!v) return true;
  char* end = nullptr;
  out = std::strtoll(v->c_str(), &end, 10);
  return !v->empty() && end == v->c_str() + v->size() && out >= 0;
}

}  // namespace

int RunReplay(const Args& args, Connection& conn, bool json) {
  if (args.positional().size() != 2) return UsageError("replay takes one FILE (or - for stdin)");
  const std::string path = args.positional()[1];
  long long batch_size = 0, rate = 0, report_every = 0;
  if (!ParseCount(args, "batch", 500, batch_size) || batch_size == 0) {
    return UsageError("--batch must be a whole number > 0");
  }
  if (!ParseCount(args, "rate", 0, rate)) return UsageError("--rate must be a number >= 0");
  if (!ParseCount(args, "report_every", 10000, report_every) || report_every == 0) {
    return UsageError("--report_every must be a whole number > 0");
  }
  std::optional<Format> format;
  if (auto f = args.Get("format")) {
    format = ParseFormat(*f);
    if (!format) return UsageError("--format must be jsonl, criteo or csv");
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
  std::optional<EventParser> parser;
  const bool skip_bad = args.Has("skip_bad");
  const bool quiet = args.Has("quiet");
  const std::optional<std::string> report_path = args.Get("report");

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

  auto ctx = conn.Context(0);  // a replay may take hours: no deadline on the stream
  auto stream = conn.recommender().ObserveStream(ctx.get());
  const auto start = Clock::now();
  std::atomic<uint64_t> sent{0}, acked{0}, bytes_read{0};
  std::atomic<bool> done{false};
  std::vector<CurvePoint> curve;

  std::thread reader([&] {
    v1::ObserveResponse resp;
    uint64_t next_point = report_every;
    while (stream->Read(&resp)) {
      const uint64_t a = acked.fetch_add(resp.accepted()) + resp.accepted();
      if (a >= next_point) {
        CurvePoint p;
        p.acknowledged = a;
        if (conn.admin().GetStats(conn.Context().get(), v1::GetStatsRequest(), &p.stats).ok()) {
          curve.push_back(std::move(p));
        }
        while (next_point <= a) next_point += report_every;
      }
    }
  });

  std::mutex progress_mu;
  std::condition_variable progress_cv;
  const bool tty = isatty(STDERR_FILENO);
  std::thread progress([&] {
    uint64_t last_acked = 0;
    auto last_time = Clock::now();
    std::unique_lock<std::mutex> lock(progress_mu);
    while (!progress_cv.wait_for(lock, std::chrono::seconds(1), [&] { return done.load(); })) {
      if (quiet) continue;
      v1::Stats st;
      conn.admin().GetStats(conn.Context().get(), v1::GetStatsRequest(), &st);
      const uint64_t a = acked.load();
      const double rate_now = (a - last_acked) / std::chrono::duration<double>(
                                                    Clock::now() - last_time).count();
      last_acked = a;
      last_time = Clock::now();
      const double elapsed = Seconds(start);
      std::string eta;
      if (file_size > 0 && bytes_read.load() > 0) {
        const double f = bytes_read.load() / file_size;
        eta = "  ETA " + Duration(elapsed * (1 - f) / f);
      }
      std::fprintf(stderr, "%ssent %lu  acked %lu  %.0f ev/s  logloss %.4f  AUC %.4f (last %lu)  "
                   "elapsed %s%s%s",
                   tty ? "\r\033[K" : "", static_cast<unsigned long>(sent.load()),
                   static_cast<unsigned long>(a), rate_now, st.progressive_window().logloss(),
                   st.progressive_window().auc(),
                   static_cast<unsigned long>(st.metrics_window()), Duration(elapsed).c_str(),
                   eta.c_str(), tty ? "" : "\n");
    }
  });

  // Read, parse and send.
  std::string line, input_error;
  uint64_t line_number = 0, malformed = 0;
  std::vector<std::string> malformed_examples;
  v1::ObserveRequest req;
  bool write_failed = false;
  // Each request sent: the events sent before it and its first line, to name where an
  // early end of the stream left off.
  std::vector<std::pair<uint64_t, uint64_t>> requests;
  uint64_t req_first_line = 0;
  auto flush = [&] {
    if (req.events_size() == 0 || write_failed) return;
    const int n = req.events_size();
    if (!stream->Write(req)) {
      write_failed = true;
      return;
    }
    requests.emplace_back(sent.load(), req_first_line);
    sent += n;
    req.Clear();
  };
  while (std::getline(*in, line)) {
    ++line_number;
    bytes_read += line.size() + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (skip_header && line_number == 1) continue;
    if (!format) format = DetectFormat(line);
    if (!parser) parser.emplace(*format, layout);
    std::string error;
    if (parser->NeedsHeader()) {
      if (!parser->Header(line, error)) {
        input_error = (path == "-" ? "<stdin>" : path) + ":" + std::to_string(line_number) +
                      ": " + error;
        break;
      }
      continue;
    }
    if (!parser->Parse(line, *req.add_events(), error)) {
      req.mutable_events()->RemoveLast();
      const std::string where = (path == "-" ? "<stdin>" : path) + ":" +
                                std::to_string(line_number) + ": " + error;
      if (!skip_bad) {
        input_error = where;
        break;
      }
      ++malformed;
      if (malformed_examples.size() < 5) malformed_examples.push_back(where);
      continue;
    }
    if (req.events_size() == 1) req_first_line = line_number;
    if (req.events_size() >= batch_size) flush();
    if (write_failed) break;
    if (rate > 0) {
      const auto due = start + std::chrono::duration<double>(
                                   static_cast<double>(sent.load() + req.events_size()) / rate);
      if (due > Clock::now()) {
        flush();
        std::this_thread::sleep_until(due);
      }
    }
  }
  flush();
  stream->WritesDone();
  reader.join();
  const grpc::Status finished = stream->Finish();
  {
    std::lock_guard<std::mutex> lock(progress_mu);
    done = true;
  }
  progress_cv.notify_all();
  progress.join();
  if (tty && !quiet) std::fprintf(stderr, "\n");
  // The stream can end early in three ways: the server finishes it with an error (an
  // invalid or unparseable request), a write fails because the call is already over,
  // or the server ends it with OK before acknowledging everything. Each is a failure.
  if (!finished.ok() || write_failed || acked.load() < sent.load()) {
    const int code = finished.ok() ? kExitServer : conn.Fail("replay", finished);
    if (finished.ok()) {
      std::fprintf(stderr, "streamrec: replay: the server ended the stream early\n");
    }
    std::string where;
    for (const auto& [before_it, first_line] : requests) {
      if (before_it == acked.load()) {
        where = "; the first request not acknowledged began at " +
                (path == "-" ? std::string("<stdin>") : path) + ":" + std::to_string(first_line);
      }
    }
    std::fprintf(stderr, "streamrec: replay: %lu of the %lu events sent were acknowledged%s\n",
                 static_cast<unsigned long>(acked.load()), static_cast<unsigned long>(sent.load()),
                 where.c_str());
    if (write_failed) {
      std::fprintf(stderr, "streamrec: replay: the stream closed before the input was all sent\n");
    }
    if (!input_error.empty()) {
      std::fprintf(stderr, "streamrec: replay: also, %s\n", input_error.c_str());
    }
    return code;
  }

  // Wait until the server has trained everything acknowledged, then read its metrics.
  v1::Stats after;
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  for (;;) {
    s = conn.admin().GetStats(conn.Context().get(), v1::GetStatsRequest(), &after);
    if (!s.ok()) return conn.Fail("replay", s);
    if (after.events_applied() >= before.events_applied() + acked.load() ||
        Clock::now() > deadline) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double seconds = Seconds(start);
  const double events_per_second = seconds > 0 ? acked.load() / seconds : 0;

  char head[512];
  std::snprintf(head, sizeof(head),
                "{\"file\":\"%s\",\"format\":\"%s\",\"events_sent\":%lu,"
                "\"events_acknowledged\":%lu,\"malformed_lines\":%lu,\"seconds\":%.3f,"
                "\"events_per_second\":%.1f,",
                path == "-" ? "-" : path.c_str(),
                format == Format::kCriteo ? "criteo" : format == Format::kCsv ? "csv" : "jsonl",
                static_cast<unsigned long>(sent.load()), static_cast<unsigned long>(acked.load()),
                static_cast<unsigned long>(malformed), seconds, events_per_second);
  std::string summary = head;
  summary += "\"overall\":" + MetricsJson(after.progressive()) +
             ",\"window\":" + MetricsJson(after.progressive_window()) + "}";
  if (report_path) {
    std::string report = summary.substr(0, summary.size() - 1) + ",\"curve\":[";
    for (size_t i = 0; i < curve.size(); ++i) {
      char point[256];
      std::snprintf(point, sizeof(point), "%s{\"events_acknowledged\":%lu,\"events_applied\":%lu,",
                    i ? "," : "", static_cast<unsigned long>(curve[i].acknowledged),
                    static_cast<unsigned long>(curve[i].stats.events_applied()));
      report += point;
      report += "\"overall\":" + MetricsJson(curve[i].stats.progressive()) +
                ",\"window\":" + MetricsJson(curve[i].stats.progressive_window()) + "}";
    }
    report += "]}\n";
    std::ofstream out(*report_path);
    out << report;
    if (!out) {
      std::fprintf(stderr, "streamrec: replay: cannot write %s\n", report_path->c_str());
      return kExitInput;
    }
  }
  if (json) {
    std::printf("%s\n", summary.c_str());
  } else {
    std::printf("replayed %lu events (%lu acknowledged) in %.1f s, %.0f events/s\n",
                static_cast<unsigned long>(sent.load()), static_cast<unsigned long>(acked.load()),
                seconds, events_per_second);
    if (malformed > 0) std::printf("skipped %lu malformed lines\n", static_cast<unsigned long>(malformed));
    const v1::ProgressiveMetrics& o = after.progressive();
    const v1::ProgressiveMetrics& w = after.progressive_window();
    std::printf("server progressive metrics, overall (%lu events): %s\n",
                static_cast<unsigned long>(o.events()), MetricsText(o).c_str());
    std::printf("server progressive metrics, last %lu events: %s\n",
                static_cast<unsigned long>(w.events()), MetricsText(w).c_str());
  }
  for (const std::string& m : malformed_examples) std::fprintf(stderr, "skipped %s\n", m.c_str());
  if (!input_error.empty()) {
    std::fprintf(stderr, "streamrec: replay: %s (the %lu events before it were sent)\n",
                 input_error.c_str(), static_cast<unsigned long>(sent.load()));
    return kExitInput;
  }
  return kExitOk;
}

}  // namespace streamrec::client
