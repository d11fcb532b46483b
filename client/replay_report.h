// The end of a successful `streamrec replay`: its summary (readable, or one JSON object
// with --json) and the --report file (the summary plus the metric curve).
// Pure functions; any thread.
#ifndef STREAMREC_CLIENT_REPLAY_REPORT_H_
#define STREAMREC_CLIENT_REPLAY_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "client/replay_stream.h"
#include "streamrec/v1/admin.pb.h"

namespace streamrec::client {

struct ReplaySummary {
  std::string file;    // the path, or "-"
  std::string format;  // jsonl, criteo, csv
  uint64_t sent = 0, acknowledged = 0;
  uint64_t duplicates = 0;       // acknowledged but dropped by the server as duplicates
  std::string run_id;            // the events' "RUN:LINE" ids; empty with --no_event_ids
  uint64_t malformed_lines = 0;  // skipped (--skip_bad)
  uint64_t rejected_events = 0;  // refused by the server and skipped (--skip_bad)
  uint64_t skipped_lines = 0;    // before --resume_from (not sent)
  uint64_t resume_from = 1;
  double seconds = 0;
  v1::Stats after;  // the server's stats once it trained every acknowledged event
};

// SummaryJson: {"file", "format", "run_id" (null with --no_event_ids), "events_sent",
// "events_acknowledged", "duplicates", "malformed_lines", "rejected_events", "skipped_lines", "seconds", "events_per_second", "overall",
// "window"}.
std::string SummaryJson(const ReplaySummary& s);
// ReportJson: the summary with "curve": [{"events_acknowledged", "events_applied",
// "overall", "window"}...].
std::string ReportJson(const ReplaySummary& s, const std::vector<ReplayStream::CurvePoint>& curve);
// SummaryText: "replayed 1234 events (1234 acknowledged) in 1.2 s, ..." and the metrics.
std::string SummaryText(const ReplaySummary& s);

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_REPLAY_REPORT_H_
