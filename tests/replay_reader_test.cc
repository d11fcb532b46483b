// ReplayReader (client/replay_reader.h): with parsing threads it gives the same requests
// as parsing in order on one thread (events, lines, sizes), and it applies replay's line
// rules: blank lines, --skip_header, the csv header, --resume_from, event ids, malformed
// lines with and without skip_bad.
#include "client/replay_reader.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace streamrec::client {
namespace {

struct Result {
  std::vector<std::vector<uint64_t>> lines;  // per request
  std::vector<std::string> requests;         // serialized
  std::string input_error;
  uint64_t input_error_line = 0, lines_read = 0, malformed = 0, skipped = 0;
  std::vector<std::string> examples;
};

// Wire: the request's bytes, sealed or not (the test's events have no maps, whose
// serialized order could differ between two equal messages).
std::string Wire(ReplayBatch& b) {
  b.Seal();
  grpc::Slice slice;
  EXPECT_TRUE(b.wire.DumpToSingleSlice(&slice).ok());
  return std::string(reinterpret_cast<const char*>(slice.begin()), slice.size());
}

Result Read(const std::string& text, ReplayReader::Options o) {
  std::istringstream in(text);
  uint64_t bytes = 0;
  ReplayReader reader(in, o, [&](uint64_t n) { bytes += n; });
  Result r;
  ReplayBatch b;
  while (reader.Next(b)) {
    EXPECT_EQ(static_cast<size_t>(b.size()), b.lines.size());
    r.lines.push_back(b.lines);
    r.requests.push_back(Wire(b));
  }
  r.input_error = reader.input_error();
  r.input_error_line = reader.input_error_line();
  r.lines_read = reader.lines();
  r.malformed = reader.malformed();
  r.skipped = reader.skipped_lines();
  r.examples = reader.malformed_examples();
  if (r.input_error.empty()) {  // read to the end: every byte counted
    EXPECT_EQ(bytes, text.size() + (text.empty() || text.back() == '\n' ? 0 : 1));
  }
  return r;
}

void ExpectSame(const Result& a, const Result& b) {
  EXPECT_EQ(a.lines, b.lines);
  EXPECT_EQ(a.requests, b.requests);
  EXPECT_EQ(a.input_error, b.input_error);
  EXPECT_EQ(a.input_error_line, b.input_error_line);
  EXPECT_EQ(a.malformed, b.malformed);
  EXPECT_EQ(a.examples, b.examples);
  EXPECT_EQ(a.skipped, b.skipped);
}

std::string JsonLines(int n, int bad_every) {
  std::string text;
  for (int i = 1; i <= n; ++i) {
    if (bad_every > 0 && i % bad_every == 0) {
      text += "{\"label\":\n";
    } else if (i % 17 == 0) {
      text += "   \n";
    } else {
      text += "{\"item\":{\"id\":\"i" + std::to_string(i) + "\"},\"label\":" +
              std::to_string(i % 2) + (i % 5 == 0 ? ",\"eventId\":\"own\"" : "") + "}\n";
    }
  }
  return text;
}

ReplayReader::Options Opts(int batch, int workers) {
  ReplayReader::Options o;
  o.source = "f.jsonl";
  o.run_id = "run";
  o.batch = batch;
  o.workers = workers;
  return o;
}

TEST(ReplayReader, ThreadsGiveTheSameRequestsAsOneThread) {
  const std::string text = JsonLines(2000, 0);
  for (int batch : {1, 7, 500}) {
    const Result one = Read(text, Opts(batch, 0));
    for (int workers : {1, 3}) ExpectSame(Read(text, Opts(batch, workers)), one);
    EXPECT_EQ(one.lines_read, 2000u);
    EXPECT_TRUE(one.input_error.empty());
    size_t events = 0;
    for (size_t r = 0; r < one.lines.size(); ++r) {
      events += one.lines[r].size();
      if (r + 1 < one.lines.size()) {
        EXPECT_EQ(one.lines[r].size(), static_cast<size_t>(batch));
      }
    }
    EXPECT_EQ(events, 2000u - 2000u / 17);
  }
}

TEST(ReplayReader, EventIdsAreRunAndLineUnlessTheEventHasOne) {
  const Result r = Read(JsonLines(10, 0), Opts(500, 2));
  ASSERT_EQ(r.requests.size(), 1u);
  v1::ObserveRequest req;
  ASSERT_TRUE(req.ParseFromString(r.requests[0]));  // sealed by the parsing thread
  ASSERT_EQ(req.events_size(), 10);
  EXPECT_EQ(req.events(0).event_id(), "run:1");
  EXPECT_EQ(req.events(4).event_id(), "own");
  ReplayReader::Options o = Opts(500, 2);
  o.event_ids = false;
  const Result none = Read(JsonLines(10, 0), o);
  ASSERT_TRUE(req.ParseFromString(none.requests[0]));
  EXPECT_EQ(req.events(0).event_id(), "");
}

TEST(ReplayReader, SkipBadKeepsRequestsFullAndCountsInOrder) {
  const std::string text = JsonLines(3000, 13);
  ReplayReader::Options o = Opts(100, 0);
  o.skip_bad = true;
  const Result one = Read(text, o);
  for (int workers : {1, 2, 4}) {
    o.workers = workers;
    ExpectSame(Read(text, o), one);
  }
  EXPECT_EQ(one.malformed, 3000u / 13);
  ASSERT_EQ(one.examples.size(), 5u);
  EXPECT_EQ(one.examples[0].rfind("f.jsonl:13: not a streamrec.v1.Event in JSON: ", 0), 0u)
      << one.examples[0];
  for (size_t r = 0; r + 1 < one.lines.size(); ++r) {
    EXPECT_EQ(one.lines[r].size(), 100u);
  }
}

TEST(ReplayReader, AMalformedLineEndsTheInputAfterTheEventsBeforeIt) {
  const std::string text = JsonLines(1000, 450);
  for (int workers : {0, 2}) {
    const Result r = Read(text, Opts(100, workers));
    EXPECT_EQ(r.input_error_line, 450u);
    EXPECT_EQ(r.input_error.rfind("f.jsonl:450: not a streamrec.v1.Event in JSON", 0), 0u);
    ASSERT_FALSE(r.lines.empty());
    EXPECT_EQ(r.lines.back().back(), 449u);
    size_t events = 0;
    for (const auto& l : r.lines) events += l.size();
    EXPECT_EQ(events, 449u - 449u / 17);
  }
}

TEST(ReplayReader, SkipHeaderResumeFromAndTheCsvHeader) {
  ReplayReader::Options o = Opts(500, 2);
  o.skip_header = true;
  o.resume_from = 6;
  const Result r = Read("not json\n" + JsonLines(10, 0), o);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0].front(), 6u);
  EXPECT_EQ(r.skipped, 4u);  // lines 2..5
  EXPECT_EQ(r.lines_read, 11u);

  ReplayReader::Options csv = Opts(2, 2);
  csv.format = Format::kCsv;
  csv.layout.item = "movie";
  const Result c = Read("movie,label,user\nm1,1,u1\nm2,0,u2\nm3,1,u3\n", csv);
  ASSERT_EQ(c.lines.size(), 2u);
  EXPECT_EQ(c.lines[0], (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(c.lines[1], (std::vector<uint64_t>{4}));
  const Result bad = Read("movie,label\nm1,1\n", csv);  // no column user: fine; label ok
  EXPECT_TRUE(bad.input_error.empty());
  ReplayReader::Options missing = csv;
  missing.layout.item = "film";
  const Result header = Read("movie,label\nm1,1\n", missing);
  EXPECT_EQ(header.input_error.rfind("f.jsonl:1: csv header has no column \"film\"", 0), 0u)
      << header.input_error;
  EXPECT_EQ(header.input_error_line, 1u);
  EXPECT_TRUE(header.lines.empty());
}

TEST(ReplayReader, FormatIsDetectedAndStopEndsNext) {
  std::istringstream in("1\t" + std::string(38, '\t') + "\n" + JsonLines(3, 0));
  ReplayReader reader(in, Opts(1, 2), [](uint64_t) {});
  ReplayBatch b;
  ASSERT_TRUE(reader.Next(b));  // criteo detected from line 1 (a label, every field empty)
  EXPECT_EQ(b.lines, std::vector<uint64_t>{1});
  EXPECT_FALSE(reader.Next(b));  // the jsonl line after it is not criteo
  EXPECT_EQ(reader.input_error_line(), 2u);
  EXPECT_EQ(reader.format(), Format::kCriteo);
  std::istringstream more(JsonLines(100, 0));
  ReplayReader stopped(more, Opts(1, 2), [](uint64_t) {});
  ASSERT_TRUE(stopped.Next(b));
  stopped.Stop();
  EXPECT_FALSE(stopped.Next(b));
}

// ReplayBatch's byte edits: a sealed request's events come back as they were serialized,
// whatever their size (one- and multi-byte lengths) or content (a category that is not
// UTF-8, which a parse would refuse), and FromEvents joins them into the same bytes.
TEST(ReplayBatch, EventBytesAndFromEventsRoundTrip) {
  ReplayBatch b = ReplayBatch::New(3);
  b.request->add_events()->mutable_item()->set_id("a");
  v1::Event* big = b.request->add_events();
  big->mutable_item()->set_id(std::string(300, 'x'));
  (*big->mutable_context()->mutable_values())["C1"].set_category("\xff\xfe");
  b.request->add_events()->set_label(1);
  b.lines = {4, 5, 6};
  b.Seal();
  EXPECT_TRUE(b.sealed());
  EXPECT_EQ(b.size(), 3);
  const std::string all = Wire(b);
  grpc::Slice hold;
  const std::vector<std::string_view> events = b.EventBytes(hold);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].size(), 7u);  // tag, length, then item {id "a"}: tag, length, 3 bytes
  EXPECT_GT(events[1].size(), 300u);
  ReplayBatch again = ReplayBatch::FromEvents(events, b.lines);
  EXPECT_EQ(Wire(again), all);
  EXPECT_EQ(again.size(), 3);
  ReplayBatch middle = ReplayBatch::FromEvents({events[1]}, {5});
  EXPECT_EQ(Wire(middle), std::string(events[1]));
  EXPECT_EQ(middle.lines, std::vector<uint64_t>{5});
}

}  // namespace
}  // namespace streamrec::client
