// Exposition: the Prometheus text format byte for byte: HELP/TYPE lines, label and HELP
// escaping, number formatting, and a histogram's cumulative buckets, _sum and _count.
#include "server/metrics/exposition.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace streamrec::server::metrics {
namespace {

TEST(ExpositionTest, FamiliesAndSamples) {
  Exposition e;
  e.Family("a_total", "counter", "Line one\nwith \\ backslash.");
  e.Sample("a_total", {}, uint64_t{18446744073709551615u});
  e.Family("b", "gauge", "B.");
  e.Sample("b", {{"path", "C:\\x \"q\"\nz"}, {"k", "v"}}, 0.25);
  EXPECT_EQ(e.Take(),
            "# HELP a_total Line one\\nwith \\\\ backslash.\n"
            "# TYPE a_total counter\n"
            "a_total 18446744073709551615\n"
            "# HELP b B.\n"
            "# TYPE b gauge\n"
            "b{path=\"C:\\\\x \\\"q\\\"\\nz\",k=\"v\"} 0.25\n");
}

TEST(ExpositionTest, Values) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(3), "3");
  EXPECT_EQ(FormatValue(-2.5), "-2.5");
  EXPECT_EQ(FormatValue(5e-05), "5e-05");
  EXPECT_EQ(FormatValue(0.1), "0.1");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::nan("")), "NaN");
  EXPECT_EQ(std::stod(FormatValue(1.0 / 3)), 1.0 / 3);  // reads back exactly
}

TEST(ExpositionTest, HistogramIsCumulative) {
  core::Histogram h({0.5, 1});
  h.Observe(0.1);
  h.Observe(0.7, 2);
  h.Observe(3);
  Exposition e;
  e.Histogram("t_seconds", {{"m", "P"}}, h.Read());
  EXPECT_EQ(e.Take(),
            "t_seconds_bucket{m=\"P\",le=\"0.5\"} 1\n"
            "t_seconds_bucket{m=\"P\",le=\"1\"} 3\n"
            "t_seconds_bucket{m=\"P\",le=\"+Inf\"} 4\n"
            "t_seconds_sum{m=\"P\"} 4.5\n"
            "t_seconds_count{m=\"P\"} 4\n");
}

}  // namespace
}  // namespace streamrec::server::metrics
