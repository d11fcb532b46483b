// Exposition: builds a Prometheus text-format (version 0.0.4) page, the body of
// GET /metrics: each metric family's HELP and TYPE lines, then its samples.
//
//   Exposition page;
//   page.Family("streamrec_events_received_total", "counter", "Events received.");
//   page.Sample("streamrec_events_received_total", {}, 42);
//   page.Family("streamrec_events_rejected_total", "counter", "Events rejected.");
//   page.Sample("streamrec_events_rejected_total", {{"reason", "queue_full"}}, 3);
//   std::string body = page.Take();
//
// Label values and HELP text are escaped as the format requires (\\, \" and \n in label
// values; \\ and \n in HELP); integers print as integers, other numbers in the
// shortest form that reads back exactly ("0.25", "5e-05"), non-finite ones as +Inf,
// -Inf, NaN. A histogram's samples are the cumulative
// `_bucket{le=...}` series (le="+Inf" last, equal to `_count`), `_sum` and `_count`.
// Names are the caller's: it passes valid metric and label names.
//
// Thread-compatible: one page per scrape, built on the scraping thread from numbers
// gathered before (server/metrics/scrape.h), so no lock is held while formatting.
#ifndef STREAMREC_SERVER_METRICS_EXPOSITION_H_
#define STREAMREC_SERVER_METRICS_EXPOSITION_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/core/histogram.h"

namespace streamrec::server::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Exposition {
 public:
  // Family starts a metric family; `type` is counter, gauge or histogram. Its samples
  // follow (the format wants each family's samples together).
  void Family(std::string_view name, std::string_view type, std::string_view help);
  // Sample: one line `name{labels} value`.
  void Sample(std::string_view name, const Labels& labels, double value);
  void Sample(std::string_view name, const Labels& labels, uint64_t value);
  // Histogram: the series of one histogram family's label set.
  void Histogram(std::string_view name, const Labels& labels,
                 const core::Histogram::Snapshot& h);

  std::string Take() { return std::move(out_); }

 private:
  void Start(std::string_view name, const Labels& labels, const char* extra_key = nullptr,
             std::string_view extra_value = {});
  std::string out_;
};

// FormatValue: a sample value as the text format writes it.
std::string FormatValue(double value);
// EscapeLabelValue: `\` -> `\\`, `"` -> `\"`, newline -> `\n`.
std::string EscapeLabelValue(std::string_view value);

}  // namespace streamrec::server::metrics

#endif  // STREAMREC_SERVER_METRICS_EXPOSITION_H_
