#include "http/parser.hpp"

#include "config/config.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <string>

namespace verbd::http {
namespace {

// The limits of a config that sets none.
ParserLimits defaults() {
  config::Limits limits;
  return {limits.max_request_line_bytes, limits.max_header_bytes, limits.max_body_bytes};
}

struct Parsed {
  Parser::State state;
  int refusal;
  std::size_t used;
};

// Feeds `bytes` in one piece, as one read would deliver them.
Parsed parse(std::string bytes, Request& request, const ParserLimits& limits = defaults()) {
  Parser parser(limits, request);
  std::size_t used = parser.feed(bytes);
  return {parser.state(), parser.refusal().status, used};
}

TEST(Parser, ReadsRequestLineFieldsAndLength) {
  Request request;
  std::string bytes =
      "PUT /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\nX-One: 1\r\n\r\nhello";
  auto parsed = parse(bytes, request);
  ASSERT_EQ(parsed.state, Parser::State::complete);
  EXPECT_EQ(parsed.used, bytes.size());
  EXPECT_EQ(request.method, "PUT");
  EXPECT_EQ(request.target, "/a/b?x=1");
  EXPECT_EQ(request.version, 11);
  EXPECT_EQ(request.host, "example.com");
  EXPECT_EQ(request.header("x-one"), "1");
  EXPECT_EQ(request.body, "hello");
  EXPECT_TRUE(request.keep_alive);
}

TEST(Parser, DecodesChunkedBodiesAndDropsTrailers) {
  Request request;
  auto parsed = parse(
      "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
      request);
  ASSERT_EQ(parsed.state, Parser::State::complete);
  EXPECT_EQ(request.body, "hello world");
  EXPECT_EQ(request.header("X-Trailer"), "");
}

// Makes unnamed files in the temporary folder, as the default Responder does.
struct TemporarySpooler : Spooler {
  virtual ~TemporarySpooler() = default;
  Fd open_spool() override { return open_unnamed_file(temporary_folder()); }
};

std::string spooled_bytes(const Request& request) {
  std::string bytes;
  EXPECT_EQ(append_file_start(request.body_file.get(), request.body_file_size, bytes), 0);
  return bytes;
}

// Past body_in_memory_bytes, the body goes to the spool file, all of it
// (what was in memory first), whether it comes with a length or chunked and
// in however many pieces; up to the limit it stays in memory.
TEST(Parser, SpoolsABodyLargerThanMemoryTakes) {
  TemporarySpooler spooler;
  ParserLimits limits = defaults();
  limits.body_in_memory_bytes = 8;
  for (std::string framing : {"length", "chunked"}) {
    Request request;
    Parser parser(limits, request, &spooler);
    std::string bytes = framing == "length"
                            ? "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 20\r\n\r\n0123456789abcdefghij"
                            : "PUT /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "6\r\n012345\r\n6\r\n6789ab\r\n8\r\ncdefghij\r\n0\r\n\r\n";
    std::string unparsed;  // as a connection keeps what the parser has not taken
    for (std::size_t at = 0; at < bytes.size(); at += 5) {  // five bytes a read
      unparsed += bytes.substr(at, 5);
      unparsed.erase(0, parser.feed(unparsed));
    }
    ASSERT_EQ(parser.state(), Parser::State::complete) << framing;
    ASSERT_NE(parser.spool(), nullptr);  // written by another thread: whole once drained
    for (int i = 0; i < 500 && !parser.spool()->drained(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(parser.spool()->drained());
    EXPECT_EQ(parser.spool()->error(), 0);
    EXPECT_TRUE(request.body_spooled()) << framing;
    EXPECT_TRUE(request.body.empty()) << framing;
    EXPECT_EQ(request.body_size(), 20u) << framing;
    EXPECT_EQ(spooled_bytes(request), "0123456789abcdefghij") << framing;
    EXPECT_EQ(request.announces_spooled_body, framing == "length");
  }
  Request small;
  Parser parser(limits, small, &spooler);
  std::string bytes = "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 8\r\n\r\n01234567";
  parser.feed(bytes);
  ASSERT_EQ(parser.state(), Parser::State::complete);
  EXPECT_FALSE(small.body_spooled());
  EXPECT_EQ(small.body, "01234567");
}

TEST(Parser, WaitsForMoreInput) {
  Request request;
  Parser parser(defaults(), request);
  std::string bytes = "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nab";
  std::size_t used = parser.feed(bytes);
  EXPECT_EQ(parser.state(), Parser::State::body);
  EXPECT_EQ(used, bytes.size());
  std::string rest = "cd";
  parser.feed(rest);
  EXPECT_EQ(parser.state(), Parser::State::complete);
  EXPECT_EQ(request.body, "abcd");
}

TEST(Parser, KeepsTheHeadWhenTheInputBufferIsReused) {
  Request request;
  Parser parser(defaults(), request);
  std::string first = "PUT /path HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\na";
  EXPECT_EQ(parser.feed(first), first.size());
  first.assign(first.size(), 'x');  // the connection reuses its buffer
  std::string second = "b";
  parser.feed(second);
  ASSERT_EQ(parser.state(), Parser::State::complete);
  EXPECT_EQ(request.method, "PUT");
  EXPECT_EQ(request.target, "/path");
  EXPECT_EQ(request.header("Host"), "h");
  EXPECT_EQ(request.body, "ab");
}

TEST(Parser, TakesNothingOfAHeadUntilItIsWhole) {
  Request request;
  Parser parser(defaults(), request);
  std::string part = "GET /path HTTP/1.1\r\nHost: h\r\n";
  EXPECT_EQ(parser.feed(part), 0u);
  EXPECT_EQ(parser.state(), Parser::State::header);
  part += "\r\n";
  EXPECT_EQ(parser.feed(part), part.size());
  EXPECT_EQ(parser.state(), Parser::State::complete);
}

TEST(Parser, ServesAHigherHttp1MinorVersionAs11) {
  Request request;
  auto parsed = parse("GET / HTTP/1.7\r\nHost: h\r\n\r\n", request);
  ASSERT_EQ(parsed.state, Parser::State::complete);
  EXPECT_EQ(request.version, 11);
}

TEST(Parser, IgnoresEmptyLinesBeforeTheRequestLine) {
  Request request;
  std::string bytes = "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
  auto parsed = parse(bytes, request);
  ASSERT_EQ(parsed.state, Parser::State::complete);
  EXPECT_EQ(parsed.used, bytes.size());
}

// Line-ending checks see each byte with the next: one byte per read must
// give the same answer as all at once.
TEST(Parser, JudgesLineEndsTheSameWhenTheyArriveByteByByte) {
  for (std::string bytes : {std::string("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n"),
                            std::string("GET / HTTP/1.1\r\nHost: h\nX: a\r\n\r\n"),
                            std::string("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n"),
                            std::string("GET / HTTP/1.1\r\n\tHost: h\r\n\r\n")}) {
    Request request;
    Parser parser(defaults(), request);
    std::string buffered;
    for (char c : bytes) {
      buffered.push_back(c);
      buffered.erase(0, parser.feed(buffered));
    }
    EXPECT_EQ(parser.state(), Parser::State::refused) << bytes;
    EXPECT_EQ(parser.refusal().status, 400) << bytes;
  }
}

TEST(Parser, ConnectionCloseAndHttp10KeepAlive) {
  Request request;
  parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", request);
  EXPECT_FALSE(request.keep_alive);
  parse("GET / HTTP/1.0\r\n\r\n", request);
  EXPECT_FALSE(request.keep_alive);
  parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", request);
  EXPECT_TRUE(request.keep_alive);
}

TEST(Parser, ExpectContinue) {
  Request request;
  auto parsed =
      parse("PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", request);
  EXPECT_EQ(parsed.state, Parser::State::body);
  EXPECT_TRUE(request.expects_continue);
  EXPECT_EQ(parse("PUT /x HTTP/1.1\r\nHost: h\r\nExpect: magic\r\n\r\n", request).refusal, 417);
}

struct Malformed {
  const char* name;
  std::string bytes;
  int status;
};

void PrintTo(const Malformed& malformed, std::ostream* out) { *out << malformed.name; }

class Refuses : public ::testing::TestWithParam<Malformed> {};

TEST_P(Refuses, WithTheRightStatus) {
  Request request;
  ParserLimits limits{64, 256, 16};
  auto parsed = parse(GetParam().bytes, request, limits);
  EXPECT_EQ(parsed.state, Parser::State::refused);
  EXPECT_EQ(parsed.refusal, GetParam().status);
}

INSTANTIATE_TEST_SUITE_P(
    Parser, Refuses,
    ::testing::Values(
        Malformed{"garbage_line", "NOT A REQUEST\r\n\r\n", 400},
        Malformed{"space_in_target", "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        Malformed{"bad_version", "GET / HTTQ/1.1\r\nHost: h\r\n\r\n", 400},
        Malformed{"version_2", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
        Malformed{"version_letters", "GET / HTTP/x.1\r\nHost: h\r\n\r\n", 400},
        Malformed{"lowercase_http", "GET / http/1.1\r\nHost: h\r\n\r\n", 400},
        Malformed{"no_host", "GET / HTTP/1.1\r\n\r\n", 400},
        Malformed{"two_hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
        Malformed{"bad_host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
        Malformed{"space_before_colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},
        Malformed{"obs_fold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400},
        Malformed{"bare_lf", "GET / HTTP/1.1\nHost: h\n\n", 400},
        Malformed{"bare_cr", "GET / HTTP/1.1\r\nHost: h\rX: a\r\n\r\n", 400},
        Malformed{"chunk_line_bare_lf",
                  "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello", 400},
        Malformed{"negative_length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400},
        Malformed{"two_lengths",
                  "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
        Malformed{"length_and_chunked",
                  "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                  400},
        Malformed{"gzip_coding", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                  501},
        Malformed{"chunked_not_last",
                  "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400},
        Malformed{"chunked_twice",
                  "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400},
        Malformed{"chunked_in_1_0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        Malformed{"bad_chunk_size", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                  400},
        Malformed{"long_request_line", "GET /" + std::string(100, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n", 414},
        Malformed{"long_line_unfinished", "GET /" + std::string(100, 'a'), 414},
        Malformed{"large_header", "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(300, 'a') + "\r\n\r\n",
                  431},
        Malformed{"large_body", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 17\r\n\r\n", 413},
        Malformed{
            "large_chunked_body",
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n11\r\n" + std::string(17, 'a'),
            413}),
    [](const auto& test) { return std::string(test.param.name); });

}  // namespace
}  // namespace verbd::http
