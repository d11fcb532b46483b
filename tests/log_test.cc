// Log records (common/log.h): the text format's quoting, the JSON format's types and
// escapes (parsed back by a strict reader in the Python tests; here checked by shape).
#include "common/log.h"

#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <string>

namespace streamrec::log {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void TearDown() override { SetFormat(Format::kText); }
};

TEST_F(LogTest, TextRecordQuotesOnlyWhatNeedsIt) {
  SetFormat(Format::kText);
  const std::string line = FormatRecord(
      Level::kWarning, "snapshot restored",
      {{"version", 12}, {"path", "/data dir/x"}, {"empty", ""}, {"ok", true}, {"q", "a\"b\nc"},
       {"word", "plain"}, {"eq", "a=b"}, {"ratio", 0.5}});
  EXPECT_TRUE(std::regex_match(
      line, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z WARNING snapshot restored .*)")))
      << line;
  EXPECT_NE(line.find(" version=12 path=\"/data dir/x\" empty=\"\" ok=true q=\"a\\\"b\\nc\" "
                      "word=plain eq=\"a=b\" ratio=0.5"),
            std::string::npos)
      << line;
}

TEST_F(LogTest, JsonRecordTypesAndEscapes) {
  SetFormat(Format::kJson);
  const std::string line =
      FormatRecord(Level::kError, "bad \"thing\"",
                   {{"n", -3}, {"u", 18446744073709551615ull}, {"s", "tab\there\x01"},
                    {"nan", std::nan("")}, {"b", false},
                    Field::Json("listeners", R"({"grpc":"127.0.0.1:1"})")});
  EXPECT_EQ(line.rfind("{\"ts\":\"", 0), 0u) << line;
  EXPECT_NE(line.find("\"level\":\"error\",\"msg\":\"bad \\\"thing\\\"\",\"n\":-3,"
                      "\"u\":18446744073709551615,\"s\":\"tab\\there\\u0001\",\"nan\":null,"
                      "\"b\":false,\"listeners\":{\"grpc\":\"127.0.0.1:1\"}}"),
            std::string::npos)
      << line;
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST_F(LogTest, ParseFormat) {
  Format f = Format::kText;
  EXPECT_TRUE(ParseFormat("json", &f));
  EXPECT_EQ(f, Format::kJson);
  EXPECT_TRUE(ParseFormat("text", &f));
  EXPECT_EQ(f, Format::kText);
  EXPECT_FALSE(ParseFormat("JSON", &f));
  EXPECT_FALSE(ParseFormat("", &f));
}

TEST_F(LogTest, MessageStaysOnOneLine) {
  SetFormat(Format::kText);
  const std::string line = FormatRecord(Level::kInfo, "two\nlines", {});
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
}

}  // namespace
}  // namespace streamrec::log
