// client/bench_report: nearest-rank percentiles, summaries, the JSON writer and tables,
// on hand-computed inputs.
#include "client/bench_report.h"

#include <gtest/gtest.h>

#include <cmath>

namespace streamrec::client {
namespace {

TEST(BenchReportTest, PercentilesAreNearestRank) {
  std::vector<int64_t> v;
  for (int i = 100; i >= 1; --i) v.push_back(i * 1000);  // 1..100 us, unsorted
  const LatencySummary s = Summarize(v, 2.0);
  EXPECT_EQ(s.calls, 100u);
  EXPECT_DOUBLE_EQ(s.per_second, 50);
  EXPECT_DOUBLE_EQ(s.p50_us, 50);
  EXPECT_DOUBLE_EQ(s.p90_us, 90);
  EXPECT_DOUBLE_EQ(s.p99_us, 99);
  EXPECT_DOUBLE_EQ(s.p999_us, 100);
  EXPECT_DOUBLE_EQ(s.max_us, 100);
  EXPECT_DOUBLE_EQ(s.mean_us, 50.5);
  EXPECT_EQ(Percentile({}, 0.5), 0);
  EXPECT_EQ(Percentile({7}, 0.001), 7);
  std::vector<int64_t> none;
  EXPECT_EQ(Summarize(none, 0).per_second, 0);
}

TEST(BenchReportTest, JsonKeepsOrderEscapesAndWritesNull) {
  JsonObject inner;
  inner.Add("x", 1);
  JsonObject o;
  o.Add("name", "a\"b").Add("n", uint64_t{18446744073709551615u}).Add("r", 0.5);
  o.Add("bad", NAN).Add("none", std::optional<double>()).Add("ok", true).Add("in", inner);
  EXPECT_EQ(o.Text(), "{\"name\":\"a\\\"b\",\"n\":18446744073709551615,\"r\":0.5,"
                      "\"bad\":null,\"none\":null,\"ok\":true,\"in\":{\"x\":1}}");
}

TEST(BenchReportTest, TablePadsColumns) {
  EXPECT_EQ(Table({{"a", "bb"}, {"ccc", "d"}}), "a    bb\n-------\nccc   d\n");
  EXPECT_EQ(Ratio(0.4242), "0.42x");
  EXPECT_EQ(Ratio(NAN), "-");
  EXPECT_EQ(Fixed(2.25, 1), "2.2");
}

}  // namespace
}  // namespace streamrec::client
