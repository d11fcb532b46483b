#include "server/metrics/exposition.h"

#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace streamrec::server::metrics {

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // The shortest text that reads back as the same double ("1", "0.25", "5e-05").
  char buffer[64];
  const std::to_chars_result r = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, r.ptr);
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Exposition::Family(std::string_view name, std::string_view type, std::string_view help) {
  std::string escaped;
  for (char c : help) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  absl::StrAppend(&out_, "# HELP ", std::string(name), " ", escaped, "\n# TYPE ",
                  std::string(name), " ", std::string(type), "\n");
}

void Exposition::Start(std::string_view name, const Labels& labels, const char* extra_key,
                       std::string_view extra_value) {
  out_.append(name);
  if (labels.empty() && extra_key == nullptr) return;
  out_ += '{';
  bool first = true;
  for (const auto& [key, value] : labels) {
    if (!first) out_ += ',';
    first = false;
    absl::StrAppend(&out_, key, "=\"", EscapeLabelValue(value), "\"");
  }
  if (extra_key != nullptr) {
    if (!first) out_ += ',';
    absl::StrAppend(&out_, extra_key, "=\"", EscapeLabelValue(extra_value), "\"");
  }
  out_ += '}';
}

void Exposition::Sample(std::string_view name, const Labels& labels, double value) {
  Start(name, labels);
  absl::StrAppend(&out_, " ", FormatValue(value), "\n");
}

void Exposition::Sample(std::string_view name, const Labels& labels, uint64_t value) {
  Start(name, labels);
  absl::StrAppend(&out_, " ", value, "\n");
}

void Exposition::Histogram(std::string_view name, const Labels& labels,
                           const core::Histogram::Snapshot& h) {
  const std::string bucket = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < h.bounds.size(); ++i) {
    cumulative += h.counts[i];
    Start(bucket, labels, "le", FormatValue(h.bounds[i]));
    absl::StrAppend(&out_, " ", cumulative, "\n");
  }
  Start(bucket, labels, "le", "+Inf");
  absl::StrAppend(&out_, " ", h.count, "\n");
  Start(std::string(name) + "_sum", labels);
  absl::StrAppend(&out_, " ", FormatValue(h.sum), "\n");
  Start(std::string(name) + "_count", labels);
  absl::StrAppend(&out_, " ", h.count, "\n");
}

}  // namespace streamrec::server::metrics
