#include "client/event_formats.h"

#include <cmath>
#include <cstdlib>
#include <vector>

#include "google/protobuf/util/json_util.h"

namespace streamrec::client {
namespace {

constexpr int kCriteoInts = 13, kCriteoCats = 26;

std::vector<std::string> SplitTabs(const std::string& line) {
  std::vector<std::string> out(1);
  for (char c : line) {
    if (c == '\t') {
      out.emplace_back();
    } else if (c != '\r' && c != '\n') {
      out.back() += c;
    }
  }
  return out;
}

bool ParseCriteo(const std::string& line, v1::Event& event, std::string& error) {
  const std::vector<std::string> f = SplitTabs(line);
  if (f.size() != 1 + kCriteoInts + kCriteoCats) {
    error = "expected 40 tab-separated fields (label, I1..I13, C1..C26), found " +
            std::to_string(f.size());
    return false;
  }
  if (f[0] != "0" && f[0] != "1") {
    error = "label \"" + f[0] + "\" is not 0 or 1";
    return false;
  }
  event.set_label(f[0] == "1" ? 1.0 : 0.0);
  auto& values = *event.mutable_context()->mutable_values();
  for (int k = 1; k <= kCriteoInts; ++k) {
    const std::string& s = f[k];
    if (s.empty()) continue;
    char* end = nullptr;
    const long long x = std::strtoll(s.c_str(), &end, 10);
    if (end != s.c_str() + s.size()) {
      error = "I" + std::to_string(k) + " \"" + s + "\" is not an integer";
      return false;
    }
    const double v = x >= 0 ? std::log1p(static_cast<double>(x))
                            : -std::log1p(-static_cast<double>(x));
    values["I" + std::to_string(k)].set_number(v);
  }
  for (int k = 1; k <= kCriteoCats; ++k) {
    const std::string& s = f[kCriteoInts + k];
    if (!s.empty()) values["C" + std::to_string(k)].set_category(s);
  }
  event.mutable_item()->set_id("criteo");
  return true;
}

}  // namespace

std::optional<Format> ParseFormat(const std::string& name) {
  if (name == "jsonl") return Format::kJsonl;
  if (name == "criteo") return Format::kCriteo;
  return std::nullopt;
}

Format DetectFormat(const std::string& first_line) {
  for (char c : first_line) {
    if (c == ' ' || c == '\t') continue;
    return c == '{' ? Format::kJsonl : Format::kCriteo;
  }
  return Format::kJsonl;
}

bool ParseEventLine(Format format, const std::string& line, v1::Event& event,
                    std::string& error) {
  event.Clear();
  if (format == Format::kCriteo) return ParseCriteo(line, event, error);
  const auto status = google::protobuf::util::JsonStringToMessage(line, &event);
  if (!status.ok()) {
    error = "not a streamrec.v1.Event in JSON: " + std::string(status.message());
    return false;
  }
  return true;
}

std::string FormatEventLine(Format format, const v1::Event& event) {
  if (format == Format::kJsonl) {
    std::string out;
    google::protobuf::util::MessageToJsonString(event, &out);
    return out;
  }
  std::string out = event.label() >= 0.5 ? "1" : "0";
  const auto& values = event.context().values();
  for (int k = 1; k <= kCriteoInts; ++k) {
    out += '\t';
    auto it = values.find("I" + std::to_string(k));
    if (it != values.end() && it->second.has_number()) {
      out += std::to_string(static_cast<long long>(std::llround(it->second.number())));
    }
  }
  for (int k = 1; k <= kCriteoCats; ++k) {
    out += '\t';
    auto it = values.find("C" + std::to_string(k));
    if (it != values.end()) out += it->second.category();
  }
  return out;
}

}  // namespace streamrec::client
