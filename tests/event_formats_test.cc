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
#include "tests/testing/old_criteo_reader.h"

namespace streamrec::client {
namespace {

using streamrec::testing::OldParseCriteo;  // the reader before the fast path

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
