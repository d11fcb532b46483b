// QuoteForError and CapErrorMessage: what a client string looks like in an error.
#include "server/error_text.h"

#include <gtest/gtest.h>

#include <string>

namespace streamrec::server {
namespace {

struct QuoteCase {
  std::string in;
  std::string want;
};

TEST(ErrorTextTest, QuoteEscapesControlCharactersQuotesAndInvalidUtf8) {
  const QuoteCase cases[] = {
      {"age", "\"age\""},
      {"", "\"\""},
      {"say \"hi\"", "\"say \\\"hi\\\"\""},
      {"back\\slash", "\"back\\\\slash\""},
      {std::string("a\0b", 3), "\"a\\x00b\""},
      {"tab\there\r\n", "\"tab\\x09here\\x0d\\x0a\""},
      {"\x1b[31mred", "\"\\x1b[31mred\""},        // ANSI escape
      {"del\x7f", "\"del\\x7f\""},
      {"caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80",
       "\"caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80\""},  // UTF-8 kept
      {"c1\xc2\x85", "\"c1\\xc2\\x85\""},          // U+0085, a C1 control
      {"bad\xff", "\"bad\\xff\""},
      {"cut\xe6\x97", "\"cut\\xe6\\x97\""},        // a character cut short
      {"stray\x80", "\"stray\\x80\""},
      {"overlong\xc0\xaf", "\"overlong\\xc0\\xaf\""},
      {"surrogate\xed\xa0\x80", "\"surrogate\\xed\\xa0\\x80\""},
  };
  for (const QuoteCase& c : cases) EXPECT_EQ(QuoteForError(c.in), c.want) << c.in;
}

TEST(ErrorTextTest, QuoteCutsLongStringsAndNotesTheirLength) {
  EXPECT_EQ(QuoteForError(std::string(64, 'x')), "\"" + std::string(64, 'x') + "\"");
  EXPECT_EQ(QuoteForError(std::string(10240, 'x')),
            "\"" + std::string(64, 'x') + "\"... (10240 bytes)");
  // Never splits a character: 21 three-byte characters fit in 64 bytes, not 22.
  std::string wide;
  for (int i = 0; i < 30; ++i) wide += "\xe6\x97\xa5";
  std::string want21;
  for (int i = 0; i < 21; ++i) want21 += "\xe6\x97\xa5";
  EXPECT_EQ(QuoteForError(wide), "\"" + want21 + "\"... (90 bytes)");
  // Escaping may lengthen the output, but the input shown is still bounded.
  const std::string zeros(1000, '\0');
  EXPECT_EQ(QuoteForError(zeros).size(), 2 + 64 * 4 + std::string("... (1000 bytes)").size());
  EXPECT_EQ(QuoteForError("abcdef", 3), "\"abc\"... (6 bytes)");
}

TEST(ErrorTextTest, CapKeepsShortMessagesAndCutsLongOnesAtACharacter) {
  EXPECT_EQ(CapErrorMessage("short"), "short");
  EXPECT_EQ(CapErrorMessage(std::string(1024, 'm')), std::string(1024, 'm'));
  EXPECT_EQ(CapErrorMessage(std::string(5000, 'm')),
            std::string(1024, 'm') + "... (message of 5000 bytes truncated)");
  EXPECT_EQ(CapErrorMessage("ab\xe6\x97\xa5", 4), "ab... (message of 5 bytes truncated)");
}

}  // namespace
}  // namespace streamrec::server
