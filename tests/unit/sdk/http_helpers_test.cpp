// <verbd/http.hpp>: dates and entity-tags as RFC 9110 defines them.
#include <verbd/http.hpp>

#include <gtest/gtest.h>

namespace verbd {
namespace {

TEST(HttpDate, FormatsImfFixdate) {
  EXPECT_EQ(http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
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
