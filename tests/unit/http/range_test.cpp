// The Range field's grammar (RFC 9110 §14.1.1) and what it asks of a
// representation of a given size (§14.1.2).
#include "http/range.hpp"

#include "common/fd.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace verbd::http {
namespace {

using Kind = RangeAsked::Kind;

void expect_parts(std::string_view field, std::uint64_t size, std::vector<ByteRange> parts) {
  RangeAsked asked = parse_range(field, size);
  EXPECT_EQ(asked.kind, Kind::parts) << field;
  EXPECT_EQ(asked.parts, parts) << field;
}

void expect_part(std::string_view field, std::uint64_t size, std::uint64_t first, std::uint64_t length) {
  expect_parts(field, size, {{first, length}});
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

TEST(ParseRange, WhatDoesNotParseIsIgnored) {
  for (std::string_view field :
       {"", "bytes", "bytes=", "bytes=,", "items=0-1", "0-1", "bytes=1", "bytes=-", "bytes=a-b", "bytes=1-a",
        "bytes=+1-2", "bytes=1 -2", "bytes=5-2", "bytes=--1", "bytes=0-1,x", "bytes=0-1,5-2"})
    EXPECT_EQ(parse_range(field, 10).kind, Kind::whole) << '"' << field << '"';
}

TEST(ParseRange, SeveralPartsInTheOrderAsked) {
  expect_parts("bytes=0-9,200-299,-100", 1000, {{0, 10}, {200, 100}, {900, 100}});
  expect_parts("bytes=0-9, 500-", 1000, {{0, 10}, {500, 500}});
}

// §15.3.7.2: overlapping parts, and parts closer than a part's framing in a
// multipart body (80 bytes), are sent as one.
TEST(ParseRange, PartsThatOverlapOrLieCloseBecomeOne) {
  expect_part("bytes=0-99,50-149", 1000, 0, 150);
  expect_part("bytes=0-99,10-19", 1000, 0, 100);               // within the one before
  expect_part("bytes=0-9,89-99", 1000, 0, 100);                // 79 bytes apart
  expect_parts("bytes=0-9,90-99", 1000, {{0, 10}, {90, 10}});  // 80 apart: two
  expect_part("bytes=0-0,-1", 10, 0, 10);
  expect_part("bytes=0-1,5-9", 10, 0, 10);
}

TEST(ParseRange, PartsPastTheEndAreLeftOutAndOnlyThoseAreUnsatisfiable) {
  expect_part("bytes=0-1,5000-", 1000, 0, 2);
  expect_part("bytes=-0,998-", 1000, 998, 2);
  EXPECT_EQ(parse_range("bytes=5000-,1000-1001,-0", 1000).kind, Kind::unsatisfiable);
}

// §14.2: many parts, or parts out of order, may be an attack; the whole is sent.
TEST(ParseRange, PartsOutOfOrderOrTooManyGetTheWhole) {
  EXPECT_EQ(parse_range("bytes=500-599,0-99", 1000).kind, Kind::whole);
  std::string field = "bytes=";
  std::vector<ByteRange> parts;
  for (std::uint64_t i = 0; i < max_parts; ++i) {
    field += std::to_string(i * 100) + "-" + std::to_string(i * 100) + ",";
    parts.push_back({i * 100, 1});
  }
  expect_parts(field, 10000, parts);
  EXPECT_EQ(parse_range(field + "9999-9999", 10000).kind, Kind::whole);
  EXPECT_EQ(parse_range(field + "0-0", 10000).kind, Kind::whole);  // even one that would merge
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

// The boundary the Content-Type field names, after checking its form.
std::string boundary_of(const Response& response) {
  std::string_view type = response.field("Content-Type");
  std::string_view prefix = "multipart/byteranges; boundary=";
  EXPECT_TRUE(type.starts_with(prefix)) << type;
  return std::string(type.substr(std::min(prefix.size(), type.size())));
}

std::string lowercase_letters(std::size_t size) {
  std::string letters;
  for (std::size_t i = 0; i < size; ++i) letters += static_cast<char>('a' + i % 26);
  return letters;
}

TEST_F(AnswerRange, SeveralPartsMakeOneMultipartBody) {
  response_.add_field("Content-Type", "text/plain");
  response_.fresh_body() = lowercase_letters(300);
  response_.mark_body_as_resource();
  answer({{"Range", "bytes=0-2,200-204"}});
  EXPECT_EQ(response_.status(), 206);
  EXPECT_TRUE(response_.field("Content-Range").empty());  // each part has its own
  std::string boundary = boundary_of(response_);
  EXPECT_EQ(boundary.size(), 16u);
  EXPECT_EQ(body(), "--" + boundary +
                        "\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-2/300\r\n\r\nabc\r\n" + "--" +
                        boundary +
                        "\r\nContent-Type: text/plain\r\nContent-Range: bytes 200-204/300\r\n\r\nstuvw\r\n" +
                        "--" + boundary + "--\r\n");
  EXPECT_EQ(response_.content_length(), body().size());
}

TEST_F(AnswerRange, EachAnswerHasABoundaryOfItsOwn) {
  response_.fresh_body() = lowercase_letters(300);
  response_.mark_body_as_resource();
  answer({{"Range", "bytes=0-0,299-299"}});
  std::string first = boundary_of(response_);
  EXPECT_NE(body().find("Content-Type: application/octet-stream\r\n"),
            std::string::npos);  // as the whole would say
  response_.reset(false);
  response_.fresh_body() = lowercase_letters(300);
  response_.mark_body_as_resource();
  answer({{"Range", "bytes=0-0,299-299"}});
  EXPECT_NE(boundary_of(response_), first);
}

// A resource left in its file: its parts are read from the right places,
// up to max_multipart_bytes in all; more get the whole.
TEST(AnswerRangeFromAFile, PartsAreReadFromTheFileUpToALimit) {
  std::string bytes = lowercase_letters(3 * max_multipart_bytes);
  Fd file = open_unnamed_file(temporary_folder());
  ASSERT_TRUE(file.ok());
  ASSERT_EQ(::pwrite(file.get(), bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
  auto respond = [&](std::string_view range) {
    Response response;
    response.reset(false);
    response.set_file_body(Fd(::fcntl(file.get(), F_DUPFD_CLOEXEC, 0)), bytes.size());
    response.mark_body_as_resource();
    Request request;
    request.method = "GET";
    request.headers = {{"Range", range}};  // the field views the caller's text
    answer_range(request, response);
    return response;
  };
  Response small = respond("bytes=5-6,2000000-2000001");
  EXPECT_EQ(small.status(), 206);
  std::string out;
  small.serialize(out, {"verbd", true, 11});
  EXPECT_NE(out.find("\r\n\r\nfg\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\n\r\n" + bytes.substr(2000000, 2) + "\r\n"), std::string::npos);
  EXPECT_FALSE(small.file_to_send().ok());  // all in memory now

  std::string too_much = "bytes=0-" + std::to_string(max_multipart_bytes) + ",-10";
  Response large = respond(too_much);
  EXPECT_EQ(large.status(), 200);
  EXPECT_EQ(large.content_length(), bytes.size());
  EXPECT_TRUE(large.file_to_send().ok());
}

}  // namespace
}  // namespace verbd::http
