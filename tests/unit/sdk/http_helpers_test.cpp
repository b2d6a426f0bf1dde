// <verbd/http.hpp>: dates and entity-tags as RFC 9110 defines them.
#include <verbd/http.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <ctime>
#include <string>

namespace verbd {
namespace {

TEST(HttpDate, FormatsImfFixdate) {
  EXPECT_EQ(http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(http_date(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
  EXPECT_EQ(http_date(-2203891200), "Thu, 01 Mar 1900 00:00:00 GMT");  // 1900 had no 29 February
  EXPECT_EQ(http_date(4107542399), "Sun, 28 Feb 2100 23:59:59 GMT");
  EXPECT_EQ(http_date(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
}

// Nearly every day from 1601 to 2399 (one day and up to 2.2 hours apart,
// so that the time of day moves too), as gmtime_r says.
TEST(HttpDate, FormatsDatesOfEightCenturiesAsTheCLibrary) {
  const std::int64_t first = -11644473600, last = 13569465600;  // 1601-01-01, 2400-01-01
  for (std::int64_t t = first, step = 0; t < last; t += 86400 + (step++ % 7919)) {
    std::time_t as_time = static_cast<std::time_t>(t);
    std::tm utc{};
    ASSERT_NE(gmtime_r(&as_time, &utc), nullptr);
    char expected[30];
    std::strftime(expected, sizeof expected, "%a, %d %b %Y %H:%M:%S GMT", &utc);
    ASSERT_EQ(http_date(t), std::string(expected, 29)) << t;
  }
}

TEST(HttpDate, ParsesAllThreeFormats) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), 784111777);
  EXPECT_EQ(parse_http_date("yesterday"), std::nullopt);
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT trailing"), std::nullopt);
}

TEST(ETags, StrongAndWeakComparison) {
  EXPECT_TRUE(etag_list_matches("\"a\"", "\"a\"", false));
  EXPECT_TRUE(etag_list_matches("\"x\", \"a\"", "\"a\"", false));
  EXPECT_FALSE(etag_list_matches("W/\"a\"", "\"a\"", false));
  EXPECT_TRUE(etag_list_matches("W/\"a\"", "\"a\"", true));
  EXPECT_TRUE(etag_list_matches("*", "\"a\"", false));
  EXPECT_FALSE(etag_list_matches("\"b\"", "\"a\"", true));
  EXPECT_FALSE(etag_list_matches("", "\"a\"", true));
}

TEST(PercentEncoding, KeepsPathCharactersAndEncodesTheRest) {
  EXPECT_EQ(percent_encode_path("/db/name"), "/db/name");
  EXPECT_EQ(percent_encode_path("/a b/caf\xC3\xA9?#%"), "/a%20b/caf%C3%A9%3F%23%25");
}

}  // namespace
}  // namespace verbd
