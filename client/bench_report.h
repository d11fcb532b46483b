// What `streamrec bench` measures and prints: latency summaries (every latency kept and
// sorted: exact percentiles), a small ordered JSON object writer, and the readable
// table. Thread-compatible values; pure functions.
//
//   LatencySummary s = Summarize(latencies_ns, seconds);   // sorts latencies_ns
//   JsonObject o;
//   o.Add("bench", "predict").Add("predict", s.ToJson());
//   std::puts(o.Text().c_str());
#ifndef STREAMREC_CLIENT_BENCH_REPORT_H_
#define STREAMREC_CLIENT_BENCH_REPORT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace streamrec::client {

// JsonObject: a JSON object whose keys keep the order they were added in. Non-finite
// numbers are written as null.
class JsonObject {
 public:
  JsonObject& Add(const std::string& key, const std::string& value);
  JsonObject& Add(const std::string& key, const char* value) {
    return Add(key, std::string(value));
  }
  JsonObject& Add(const std::string& key, double value);
  JsonObject& Add(const std::string& key, int value) { return Add(key, int64_t{value}); }
  JsonObject& Add(const std::string& key, int64_t value);
  JsonObject& Add(const std::string& key, uint64_t value);
  JsonObject& Add(const std::string& key, bool value);
  JsonObject& Add(const std::string& key, const JsonObject& value);
  // Add(key, nullopt) writes null.
  JsonObject& Add(const std::string& key, std::optional<double> value);
  JsonObject& AddNull(const std::string& key);
  std::string Text() const;

 private:
  JsonObject& Raw(const std::string& key, std::string json);
  std::vector<std::pair<std::string, std::string>> fields_;  // key, JSON text
};

// LatencySummary: calls and their latency percentiles in microseconds.
struct LatencySummary {
  uint64_t calls = 0;
  double seconds = 0;
  double per_second = 0;  // calls / seconds
  double mean_us = 0, p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0, max_us = 0;

  // ToJson: {"calls", "seconds", "qps", "mean_us", "p50_us", "p90_us", "p99_us",
  // "p999_us", "max_us"}.
  JsonObject ToJson() const;
};

// Summarize sorts `latencies_ns` (one per call) and summarizes them over `seconds`.
LatencySummary Summarize(std::vector<int64_t>& latencies_ns, double seconds);

// Percentile: the nearest-rank q-quantile (0 < q <= 1) of sorted values; 0 when empty.
int64_t Percentile(const std::vector<int64_t>& sorted, double q);

// Table: rows of cells printed with every column padded to its widest cell (the first
// row is the header, underlined).
std::string Table(const std::vector<std::vector<std::string>>& rows);

// Fixed: `value` with `digits` decimals ("12.3"); Ratio: "0.42x" ("-" when not finite).
std::string Fixed(double value, int digits = 1);
std::string Ratio(double value);

// LatencyRow: {label, calls/s, p50, p90, p99, p99.9, max} in microseconds, for Table.
std::vector<std::string> LatencyRow(const std::string& label, const LatencySummary& s);
std::vector<std::string> LatencyHeader(const std::string& first, const std::string& rate);

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_BENCH_REPORT_H_
