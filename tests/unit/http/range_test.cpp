// The Range field's grammar (RFC 9110 §14.1.1) and what it asks of a
// representation of a given size (§14.1.2).
#include "http/range.hpp"

#include <gtest/gtest.h>

namespace verbd::http {
namespace {

using Kind = RangeAsked::Kind;

void expect_part(std::string_view field, std::uint64_t size, std::uint64_t first, std::uint64_t length) {
  RangeAsked asked = parse_range(field, size);
  EXPECT_EQ(asked.kind, Kind::part) << field;
  EXPECT_EQ(asked.first, first) << field;
  EXPECT_EQ(asked.length, length) << field;
}

TEST(ParseRange, TheThreeFormsOfOnePart) {
  expect_part("bytes=0-499", 1000, 0, 500);
  expect_part("bytes=500-", 1000, 500, 500);
  expect_part("bytes=-200", 1000, 800, 200);
  expect_part("bytes=999-999", 1000, 999, 1);
}

TEST(ParseRange, APartReachingPastTheEndIsCutThere) {
  expect_part("bytes=900-5000", 1000, 900, 100);
  expect_part("bytes=-5000", 1000, 0, 1000);
  expect_part("bytes=0-99999999999999999999999", 1000, 0, 1000);  // beyond 64 bits
  expect_part("bytes=-99999999999999999999999", 1000, 0, 1000);
}

TEST(ParseRange, APartStartingPastTheEndIsUnsatisfiable) {
  EXPECT_EQ(parse_range("bytes=1000-", 1000).kind, Kind::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=1000-1001", 1000).kind, Kind::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=99999999999999999999999-", 1000).kind, Kind::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=-0", 1000).kind, Kind::unsatisfiable);  // a suffix of nothing
}

TEST(ParseRange, TheUnitInAnyCaseAndEmptyListElements) {
  expect_part("Bytes=1-2", 10, 1, 2);
  expect_part("bytes=, 1-2 ,", 10, 1, 2);
}

TEST(ParseRange, WhatIsNotOnePartOfBytesIsIgnored) {
  for (std::string_view field :
       {"", "bytes", "bytes=", "bytes=,", "items=0-1", "0-1", "bytes=1", "bytes=-", "bytes=a-b", "bytes=1-a",
        "bytes=+1-2", "bytes=1 -2", "bytes=5-2", "bytes=0-0,-1", "bytes=0-1,5-9", "bytes=--1"})
    EXPECT_EQ(parse_range(field, 10).kind, Kind::whole) << '"' << field << '"';
}

TEST(ParseRange, AnEmptyRepresentationIsSentWhole) {
  EXPECT_EQ(parse_range("bytes=0-", 0).kind, Kind::whole);
  EXPECT_EQ(parse_range("bytes=-5", 0).kind, Kind::whole);
}

// answer_range() on a GET answered 200 with a resource held in memory.
class AnswerRange : public ::testing::Test {
 protected:
  AnswerRange() {
    request_.method = "GET";
    response_.reset(false);
    response_.add_field("ETag", "\"v1\"");
    response_.fresh_body() = "0123456789";
    response_.mark_body_as_resource();
  }
  void answer(std::vector<Field> headers) {
    request_.headers = std::move(headers);
    answer_range(request_, response_);
  }
  std::string body() {
    std::string out;
    response_.serialize(out, {"verbd", true, 11});
    return out.substr(out.find("\r\n\r\n") + 4);
  }

  Request request_;
  Response response_;
};

TEST_F(AnswerRange, KeepsThePartAsked) {
  answer({{"Range", "bytes=3-5"}});
  EXPECT_EQ(response_.status(), 206);
  EXPECT_EQ(response_.field("Content-Range"), "bytes 3-5/10");
  EXPECT_EQ(response_.field("Accept-Ranges"), "bytes");
  EXPECT_EQ(body(), "345");
}

TEST_F(AnswerRange, APluginThatSaysNoneKeepsItWhole) {
  response_.add_field("Accept-Ranges", "none");
  answer({{"Range", "bytes=3-5"}});
  EXPECT_EQ(response_.status(), 200);
  EXPECT_EQ(body(), "0123456789");
}

TEST_F(AnswerRange, BytesAppendedAfterTheResourceKeepItWhole) {
  response_.append("!");
  answer({{"Range", "bytes=3-5"}});
  EXPECT_EQ(response_.status(), 200);
  EXPECT_TRUE(response_.field("Accept-Ranges").empty());
  EXPECT_EQ(body(), "0123456789!");
}

}  // namespace
}  // namespace verbd::http
