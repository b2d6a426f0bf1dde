// The host's ASCII helpers: by ASCII alone, whatever the byte.
#include "common/ascii.hpp"

#include <gtest/gtest.h>

namespace verbd::ascii {
namespace {

TEST(Ascii, ComparesLettersWithoutCaseAndNothingElse) {
  EXPECT_TRUE(iequals("Content-Type", "content-type"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("Date", "Dates"));
  EXPECT_FALSE(iequals("@", "`"));  // one bit apart, as 'A' and 'a' are, but not letters
  EXPECT_FALSE(iequals("[", "{"));
  EXPECT_FALSE(iequals("\xC9", "\xE9"));  // Latin-1 É and é: not ASCII
}

TEST(Ascii, ClassifiesAndTrims) {
  EXPECT_TRUE(is_digit('0') && is_digit('9') && !is_digit('a') && !is_digit('/'));
  EXPECT_TRUE(is_alpha('a') && is_alpha('Z') && !is_alpha('_') && !is_alpha('\xE9'));
  EXPECT_EQ(lower("GET Chunked"), "get chunked");
  EXPECT_EQ(trim_ows(" \t chunked \t"), "chunked");
  EXPECT_EQ(trim_ows("  "), "");
}

}  // namespace
}  // namespace verbd::ascii
