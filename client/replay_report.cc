#include "client/replay_report.h"

#include <cstdio>

#include "client/connection.h"
#include "client/json_string.h"
#include "client/metrics_text.h"
#include "client/words.h"

namespace streamrec::client {
namespace {

double PerSecond(const ReplaySummary& s) {
  return s.seconds > 0 ? static_cast<double>(s.acknowledged) / s.seconds : 0;
}

std::string Metrics(const v1::Stats& stats) {
  return "\"overall\":" + ToJson(stats.progressive()) +
         ",\"window\":" + ToJson(stats.progressive_window());
}

std::string Head(const ReplaySummary& s) {
  char head[768];
  // The run id is [A-Za-z0-9._-] (client/event_ids.h): no JSON escaping needed.
  const std::string run_id = s.run_id.empty() ? "null" : "\"" + s.run_id + "\"";
  std::snprintf(head, sizeof(head),
                "\"format\":\"%s\",\"run_id\":%s,\"events_sent\":%lu,"
                "\"events_acknowledged\":%lu,\"duplicates\":%lu,\"malformed_lines\":%lu,"
                "\"rejected_events\":%lu,"
                "\"skipped_lines\":%lu,\"seconds\":%.3f,\"events_per_second\":%.1f,",
                s.format.c_str(), run_id.c_str(),
                static_cast<unsigned long>(s.sent), static_cast<unsigned long>(s.acknowledged),
                static_cast<unsigned long>(s.duplicates),
                static_cast<unsigned long>(s.malformed_lines),
                static_cast<unsigned long>(s.rejected_events),
                static_cast<unsigned long>(s.skipped_lines), s.seconds, PerSecond(s));
  return "{\"file\":" + JsonString(s.file) + "," + head + Metrics(s.after);
}

}  // namespace

std::string SummaryJson(const ReplaySummary& s) { return Head(s) + "}"; }

std::string ReportJson(const ReplaySummary& s,
                       const std::vector<ReplayStream::CurvePoint>& curve) {
  std::string report = Head(s) + ",\"curve\":[";
  for (size_t i = 0; i < curve.size(); ++i) {
    char point[256];
    std::snprintf(point, sizeof(point), "%s{\"events_acknowledged\":%lu,\"events_applied\":%lu,",
                  i ? "," : "", static_cast<unsigned long>(curve[i].acknowledged),
                  static_cast<unsigned long>(curve[i].stats.events_applied()));
    report += point + Metrics(curve[i].stats) + "}";
  }
  return report + "]}\n";
}

std::string SummaryText(const ReplaySummary& s) {
  char line[256];
  std::snprintf(line, sizeof(line), "replayed %s (%lu acknowledged) in %.1f s, %.0f events/s\n",
                Counted(s.sent, "event").c_str(), static_cast<unsigned long>(s.acknowledged),
                s.seconds, PerSecond(s));
  std::string out = line;
  if (s.duplicates > 0) {
    out += "the server dropped " + Counted(s.duplicates, "duplicate event") +
           " (event_id already logged: not trained again)\n";
  }
  if (s.skipped_lines > 0 || s.resume_from > 1) {
    out += "skipped " + Counted(s.skipped_lines, "line") + " before line " +
           std::to_string(s.resume_from) + " (--resume_from)\n";
  }
  if (s.malformed_lines > 0) {
    out += "skipped " + Counted(s.malformed_lines, "malformed line") + "\n";
  }
  if (s.rejected_events > 0) {
    out += "skipped " + Counted(s.rejected_events, "event") + " the server rejected\n";
  }
  const v1::ProgressiveMetrics& o = s.after.progressive();
  const v1::ProgressiveMetrics& w = s.after.progressive_window();
  out += "server progressive metrics, overall (" + Counted(o.events(), "event") +
         "): " + MetricsText(o) + "\n";
  out += "server progressive metrics, last " + Counted(w.events(), "event") + ": " +
         MetricsText(w) + "\n";
  return out;
}

}  // namespace streamrec::client
