// The criteo reader of client/event_formats.cc against the reader it replaced (split into
// std::strings, strtod, std::log1p; copied here): the same Event (deterministic bytes) or
// the same error for the generator's lines, hand-written edge cases and randomly mutated
// lines; and AppendCriteoEvent (the wire format directly) against the reader's Event.
#include "client/event_formats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "client/criteo_events.h"
#include "client/criteo_generator.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/stubs/common.h"

namespace streamrec::client {
namespace {

// ---- The reader before the fast path (client/event_formats.cc at 489b40d). ----
std::vector<std::string> OldSplitTabs(const std::string& line) {
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

bool OldParseNumber(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(out);
}

bool OldParseCriteo(const std::string& line, v1::Event& event, std::string& error) {
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
// ---- end of the old reader ----

std::string Bytes(const v1::Event& e) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    e.SerializeToCodedStream(&coded);
  }
  return out;
}

// CheckWire: AppendCriteoEvent against ParseEventLine with the same event id: both
// accept (the appended bytes, parsed back, are the Event; a line with bytes that are not
// UTF-8 cannot be parsed back, and is only checked to be accepted by both) or both refuse
// with the same message, leaving `out` as it was.
void CheckWire(const std::string& line) {
  v1::Event message;
  std::string message_error, wire_error;
  const bool message_ok = ParseEventLine(Format::kCriteo, line, message, message_error);
  message.set_event_id("run:7");
  std::string out = "prefix";
  const bool wire_ok = AppendCriteoEvent(line, "run:7", out, wire_error);
  ASSERT_EQ(wire_ok, message_ok) << line;
  if (!wire_ok) {
    EXPECT_EQ(wire_error, message_error) << line;
    EXPECT_EQ(out, "prefix");
    return;
  }
  ASSERT_EQ(out.rfind("prefix", 0), 0u);
  v1::ObserveRequest req;
  if (!req.ParseFromString(out.substr(6))) {
    EXPECT_FALSE(google::protobuf::internal::IsStructurallyValidUTF8(line)) << line;
    return;
  }
  ASSERT_EQ(req.events_size(), 1) << line;
  EXPECT_EQ(Bytes(req.events(0)), Bytes(message)) << line;
}

void Check(EventParser& parser, const std::string& line) {
  CheckWire(line);
  v1::Event now, before;
  std::string now_error, before_error;
  const bool now_ok = parser.Parse(line, now, now_error);
  const bool before_ok = OldParseCriteo(line, before, before_error);
  ASSERT_EQ(now_ok, before_ok) << line << "\nnow: " << now_error << "\nbefore: " << before_error;
  if (now_ok) {
    EXPECT_EQ(Bytes(now), Bytes(before)) << line;
  } else {
    EXPECT_EQ(now_error, before_error) << line;
  }
}

std::vector<std::string> GeneratedLines() {
  std::vector<std::string> lines;
  CriteoStream stream(40, 1000, 5);
  v1::Event e;
  for (int i = 0; i < 2000; ++i) {
    ToApiEvent(stream.Next(), false, true, e);
    lines.push_back(FormatEventLine(Format::kCriteo, e));
  }
  return lines;
}

// A line whose I1 is `number` (the rest from a generated line).
std::string WithI1(const std::string& number) {
  std::string line = "1\t" + number;
  for (int k = 2; k <= 13; ++k) line += "\t" + std::to_string(k);
  for (int k = 1; k <= 26; ++k) line += "\tc" + std::to_string(k);
  return line;
}

TEST(CriteoReader, GeneratedLinesAgree) {
  EventParser parser(Format::kCriteo, {});
  for (const std::string& line : GeneratedLines()) Check(parser, line);
}

TEST(CriteoReader, EdgeCasesAgree) {
  EventParser parser(Format::kCriteo, {});
  for (const std::string& n :
       {"0", "1", "7", "4095", "4096", "9999", "10000", "123456789", "007", "0000", "-0",
        "-1", "-4095", "1.5", "-2.25", "1e3", "1E3", "1e-3", ".5", "5.", "+5", " 5", "5 ", "\t",
        "0x10", "0X1p3", "inf", "-inf", "nan", "infinity", "1e400", "-1e400", "1e-400",
        "4.9e-324", "1.7976931348623157e308", "9007199254740993", "18446744073709551616",
        "1e", "e1", "-", "--1", "1-", "1..2", "a", "\xff", "1,5", "", "12345678901234567890"}) {
    Check(parser, WithI1(n));
  }
  const std::string good = WithI1("3");
  for (const std::string& line :
       {std::string(""), std::string("1"), good + "\t", good + "\r", good + "\n",
        "\r" + good, good.substr(0, good.size() - 1) + "\r5", "2" + good.substr(1),
        " 1" + good.substr(1), "1 " + good.substr(1), "" + good.substr(1),
        "x" + good.substr(1), good + "\textra", std::string(39, '\t'), "0" + std::string(39, '\t'),
        "1" + std::string(39, '\t'), "1" + std::string(40, '\t')}) {
    Check(parser, line);
  }
}

TEST(CriteoReader, MutatedLinesAgree) {
  const std::vector<std::string> lines = GeneratedLines();
  static const std::string kBytes = "0123456789\t\r .eE+-xXinfa\xff";
  std::mt19937_64 rng(99);
  EventParser parser(Format::kCriteo, {});
  for (int i = 0; i < 20000 && !HasFailure(); ++i) {
    std::string line = lines[rng() % lines.size()];
    for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0 && !line.empty(); --edits) {
      const size_t at = rng() % line.size();
      switch (rng() % 4) {
        case 0: line[at] = kBytes[rng() % kBytes.size()]; break;
        case 1: line.insert(at, 1, kBytes[rng() % kBytes.size()]); break;
        case 2: line.erase(at, 1 + rng() % 4); break;
        default: line.resize(at); break;
      }
    }
    Check(parser, line);
  }
}

}  // namespace
}  // namespace streamrec::client
