// The criteo line reader of `streamrec replay` before its fast path (client/
// event_formats.cc at 489b40d), kept verbatim as the reference the fast reader is tested
// (tests/event_formats_test.cc) and measured (bench/replay_parse_bench.cc) against.
// Pure functions; any thread.
#ifndef STREAMREC_TESTS_TESTING_OLD_CRITEO_READER_H_
#define STREAMREC_TESTS_TESTING_OLD_CRITEO_READER_H_

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "streamrec/v1/streamrec.pb.h"

namespace streamrec::testing {

inline std::vector<std::string> OldSplitTabs(const std::string& line) {
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

inline bool OldParseNumber(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(out);
}

inline bool OldParseCriteo(const std::string& line, v1::Event& event, std::string& error) {
  event.Clear();
  const std::vector<std::string> f = OldSplitTabs(line);
  if (f.size() != 40) {
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
  for (int k = 1; k <= 13; ++k) {
    const std::string& s = f[k];
    if (s.empty()) continue;
    double x = 0;
    if (!OldParseNumber(s, x)) {
      error = "I" + std::to_string(k) + " \"" + s + "\" is not a finite number";
      return false;
    }
    values["I" + std::to_string(k)].set_number(x >= 0 ? std::log1p(x) : -std::log1p(-x));
  }
  for (int k = 1; k <= 26; ++k) {
    const std::string& s = f[13 + k];
    if (!s.empty()) values["C" + std::to_string(k)].set_category(s);
  }
  event.mutable_item()->set_id("criteo");
  return true;
}
}  // namespace streamrec::testing

#endif  // STREAMREC_TESTS_TESTING_OLD_CRITEO_READER_H_
