#include "client/bench_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "client/json_string.h"

namespace streamrec::client {

JsonObject& JsonObject::Raw(const std::string& key, std::string json) {
  fields_.emplace_back(key, std::move(json));
  return *this;
}

JsonObject& JsonObject::Add(const std::string& key, const std::string& value) {
  return Raw(key, JsonString(value));
}

JsonObject& JsonObject::Add(const std::string& key, double value) {
  if (!std::isfinite(value)) return AddNull(key);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6g", value);
  return Raw(key, buf);
}

JsonObject& JsonObject::Add(const std::string& key, int64_t value) {
  return Raw(key, std::to_string(value));
}

JsonObject& JsonObject::Add(const std::string& key, uint64_t value) {
  return Raw(key, std::to_string(value));
}

JsonObject& JsonObject::Add(const std::string& key, bool value) {
  return Raw(key, value ? "true" : "false");
}

JsonObject& JsonObject::Add(const std::string& key, const JsonObject& value) {
  return Raw(key, value.Text());
}

JsonObject& JsonObject::Add(const std::string& key, std::optional<double> value) {
  return value ? Add(key, *value) : AddNull(key);
}

JsonObject& JsonObject::AddNull(const std::string& key) { return Raw(key, "null"); }

std::string JsonObject::Text() const {
  std::string out = "{";
  for (const auto& [key, json] : fields_) {
    if (out.size() > 1) out += ",";
    out += JsonString(key) + ":" + json;
  }
  return out + "}";
}

JsonObject LatencySummary::ToJson() const {
  JsonObject o;
  o.Add("calls", calls).Add("seconds", seconds).Add("qps", per_second).Add("mean_us", mean_us);
  o.Add("p50_us", p50_us).Add("p90_us", p90_us).Add("p99_us", p99_us);
  o.Add("p999_us", p999_us).Add("max_us", max_us);
  return o;
}

int64_t Percentile(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

LatencySummary Summarize(std::vector<int64_t>& latencies_ns, double seconds) {
  std::sort(latencies_ns.begin(), latencies_ns.end());
  LatencySummary s;
  s.calls = latencies_ns.size();
  s.seconds = seconds;
  s.per_second = seconds > 0 ? static_cast<double>(s.calls) / seconds : 0;
  if (latencies_ns.empty()) return s;
  const double sum = std::accumulate(latencies_ns.begin(), latencies_ns.end(), 0.0);
  s.mean_us = sum / static_cast<double>(s.calls) / 1e3;
  s.p50_us = Percentile(latencies_ns, 0.5) / 1e3;
  s.p90_us = Percentile(latencies_ns, 0.9) / 1e3;
  s.p99_us = Percentile(latencies_ns, 0.99) / 1e3;
  s.p999_us = Percentile(latencies_ns, 0.999) / 1e3;
  s.max_us = latencies_ns.back() / 1e3;
  return s;
}

std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (size_t r = 0; r < rows.size(); ++r) {
    std::string line;
    for (size_t i = 0; i < rows[r].size(); ++i) {
      // The first column left-aligned, the numbers right-aligned.
      const std::string pad(width[i] - rows[r][i].size(), ' ');
      line += (i ? "  " : "") + (i ? pad + rows[r][i] : rows[r][i] + pad);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
    if (r == 0) {
      size_t total = 0;
      for (size_t i = 0; i < width.size(); ++i) total += width[i] + (i ? 2 : 0);
      out += std::string(total, '-') + "\n";
    }
  }
  return out;
}

std::string Fixed(double value, int digits) {
  if (!std::isfinite(value)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, value);
  return buf;
}

std::string Ratio(double value) { return std::isfinite(value) ? Fixed(value, 2) + "x" : "-"; }

std::vector<std::string> LatencyHeader(const std::string& first, const std::string& rate) {
  return {first, rate, "p50 us", "p90 us", "p99 us", "p99.9 us", "max us"};
}

std::vector<std::string> LatencyRow(const std::string& label, const LatencySummary& s) {
  return {label,           Fixed(s.per_second, 0), Fixed(s.p50_us), Fixed(s.p90_us),
          Fixed(s.p99_us), Fixed(s.p999_us),       Fixed(s.max_us)};
}

}  // namespace streamrec::client
