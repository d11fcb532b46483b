// Process figures: /proc/PID/stat parsing (a command name with spaces and parentheses),
// /proc/stat's btime, and a live read of this process.
#include "server/metrics/process_metrics.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <ctime>

namespace streamrec::server::metrics {
namespace {

TEST(ProcessMetricsTest, ParsesAStatLine) {
  // Fields 1..24 of man 5 proc; the name holds ") (" to trip a naive split.
  const char* line =
      "4242 (a b) (c) S 1 4242 4242 0 -1 4194304 100 0 0 0 150 25 0 0 20 0 7 0 98765 "
      "123456789 2048 18446744073709551615 1 1 0 0 0\n";
  std::optional<ProcStat> s = ParseProcStat(line);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->utime_ticks, 150u);
  EXPECT_EQ(s->stime_ticks, 25u);
  EXPECT_EQ(s->threads, 7u);
  EXPECT_EQ(s->start_ticks, 98765u);
  EXPECT_EQ(s->vsize_bytes, 123456789u);
  EXPECT_EQ(s->rss_pages, 2048u);
  EXPECT_FALSE(ParseProcStat("4242 (x) S 1 2").has_value());
  EXPECT_FALSE(ParseProcStat("no parenthesis").has_value());
}

TEST(ProcessMetricsTest, ParsesBootTime) {
  EXPECT_EQ(ParseBootTime("cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n"), 1700000000u);
  EXPECT_FALSE(ParseBootTime("cpu 1\n").has_value());
}

TEST(ProcessMetricsTest, ReadsThisProcess) {
  const ProcessFigures p = ReadProcessFigures();
  ASSERT_TRUE(p.ok);
  EXPECT_GT(p.resident_bytes, 100u * 1024);
  EXPECT_GE(p.virtual_bytes, p.resident_bytes);
  EXPECT_GE(p.threads, 1u);
  EXPECT_GE(p.open_fds, 3u);  // stdin, stdout, stderr
  EXPECT_GT(p.max_fds, p.open_fds);
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_GT(p.start_time_seconds, now - 3600);
  EXPECT_LE(p.start_time_seconds, now + 1);
}

}  // namespace
}  // namespace streamrec::server::metrics
