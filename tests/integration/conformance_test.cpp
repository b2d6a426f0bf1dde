// RFC 9112/9110 conformance, one raw request per case, through a real socket.
//
// Each case sends its bytes in one write and states what must come back: the
// statuses in order, the header fields that matter, and whether the server
// then closes the connection. Where it must stay open, a follow-up GET on the
// same connection proves that the framing was kept (no byte left unread, no
// byte read too many).
#include "../support/http_client.hpp"
#include "../support/temp_folder.hpp"
#include "../support/test_server.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace verbd::test {
namespace {

enum class Then { stays_open, closes };

// A header value of "*" only asks for the field to be present; "" asks for it
// to be absent.
using Fields = std::vector<std::pair<std::string, std::string>>;

struct Case {
  const char* name;
  std::string request;
  std::vector<int> statuses;
  Then then;
  Fields fields = {};
  bool to_head = false;
};

std::ostream& operator<<(std::ostream& out, const Case& c) { return out << c.name; }

constexpr std::size_t max_body_bytes = 1024;
const std::string allow = "DELETE, GET, HEAD, POST, PUT";

std::string get(std::string_view target, std::string_view version = "HTTP/1.1") {
  return "GET " + std::string(target) + " " + std::string(version) + "\r\nHost: x\r\n\r\n";
}

std::string with_field(std::string_view field) {
  return "GET /hello HTTP/1.1\r\nHost: x\r\n" + std::string(field) + "\r\n\r\n";
}

std::string put(std::string_view framing, std::string_view body) {
  return "PUT /r HTTP/1.1\r\nHost: x\r\n" + std::string(framing) + "\r\n\r\n" + std::string(body);
}

std::string chunked(std::string_view body) { return put("Transfer-Encoding: chunked", body); }

const std::vector<Case> cases = {
    // Persistence and message basics (RFC 9112 §9, RFC 9110 §6.6).
    {"GetKeepsTheConnection",
     get("/hello"),
     {200},
     Then::stays_open,
     {{"Content-Length", "5"},
      {"Content-Type", "*"},
      {"Date", "*"},
      {"Server", "verbd"},
      {"Connection", ""}}},
    {"Http10ClosesByDefault", get("/hello", "HTTP/1.0"), {200}, Then::closes},
    {"Http10KeepAliveOnRequest",
     "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
     {200},
     Then::stays_open,
     {{"Connection", "keep-alive"}}},
    {"ConnectionCloseHonoured", with_field("Connection: close"), {200}, Then::closes},
    {"NothingAnsweredAfterConnectionClose",
     with_field("Connection: close") + get("/hello"),
     {200},
     Then::closes},
    {"ConnectionCloseAmongOptions", with_field("Connection: foo, close"), {200}, Then::closes},
    {"LeadingEmptyLineIgnored", "\r\n" + get("/hello"), {200}, Then::stays_open},
    {"HeadSendsLengthButNoBody",
     "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n",
     {200},
     Then::stays_open,
     {{"Content-Length", "5"}},
     true},
    {"TwoPipelinedRequests", get("/hello") + get("/hello"), {200, 200}, Then::stays_open},
    {"NothingAnsweredAfterAFramingError",
     "GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n" + get("/hello"),
     {400},
     Then::closes},
    {"NotFoundKeepsTheConnection", get("/missing"), {404}, Then::stays_open},

    // Method (RFC 9110 §9.1: a case-sensitive token).
    {"UnknownMethodIs405WithAllow",
     "BREW /hello HTTP/1.1\r\nHost: x\r\n\r\n",
     {405},
     Then::stays_open,
     {{"Allow", allow}}},
    {"MethodIsCaseSensitive",
     "get /hello HTTP/1.1\r\nHost: x\r\n\r\n",
     {405},
     Then::stays_open,
     {{"Allow", allow}}},
    {"MethodWithSeparator", "GE(T /hello HTTP/1.1\r\nHost: x\r\n\r\n", {400}, Then::closes},
    {"MethodWithNonAscii", "G\xc9T /hello HTTP/1.1\r\nHost: x\r\n\r\n", {400}, Then::closes},
    {"EmptyMethod", " /hello HTTP/1.1\r\nHost: x\r\n\r\n", {400}, Then::closes},

    // Request line (RFC 9112 §3).
    {"TwoSpacesAfterMethod", "GET  /hello HTTP/1.1\r\nHost: x\r\n\r\n", {400}, Then::closes},
    {"TabAsSeparator", "GET\t/hello HTTP/1.1\r\nHost: x\r\n\r\n", {400}, Then::closes},
    {"NoVersion", "GET /hello\r\nHost: x\r\n\r\n", {400}, Then::closes},
    {"LowercaseVersion", get("/hello", "http/1.1"), {400}, Then::closes},
    {"SpaceAfterVersion", get("/hello", "HTTP/1.1 "), {400}, Then::closes},
    {"TwoDigitMinorVersion", get("/hello", "HTTP/1.10"), {400}, Then::closes},
    {"VersionWithoutMinor", get("/hello", "HTTP/1"), {400}, Then::closes},
    {"Http2Is505", get("/hello", "HTTP/2.0"), {505}, Then::closes},
    {"Http09Is505", get("/hello", "HTTP/0.9"), {505}, Then::closes},
    {"Http3Is505", get("/hello", "HTTP/3.0"), {505}, Then::closes},
    {"HigherMinorServedAs11", get("/hello", "HTTP/1.2"), {200}, Then::stays_open},
    {"RawSpaceInTarget", "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", {400}, Then::closes},
    {"NonAsciiInTarget", get("/caf\xc3\xa9"), {400}, Then::stays_open},
    {"FragmentInTarget", get("/hello#part"), {400}, Then::stays_open},
    {"AbsoluteForm",
     "GET http://example.com/hello HTTP/1.1\r\nHost: example.com\r\n\r\n",
     {200},
     Then::stays_open},
    {"AbsoluteFormAuthorityOverridesHost",
     "GET http://example.com/hello HTTP/1.1\r\nHost: other\r\n\r\n",
     {200},
     Then::stays_open},
    {"AbsoluteFormStillNeedsHost", "GET http://example.com/hello HTTP/1.1\r\n\r\n", {400}, Then::closes},
    {"AbsoluteFormWithoutAuthority", get("http:/hello"), {400}, Then::stays_open},
    {"AsteriskFormOnlyForOptions", get("*"), {400}, Then::stays_open},
    {"OptionsAsteriskWithoutPluginIs405",
     "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
     {405},
     Then::stays_open,
     {{"Allow", allow}}},
    {"ConnectAuthorityFormWithoutPluginIs405",
     "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
     {405},
     Then::stays_open},
    {"ConnectNeedsAuthorityForm", "CONNECT /hello HTTP/1.1\r\nHost: x\r\n\r\n", {400}, Then::stays_open},
    {"AuthorityFormOnlyForConnect", get("example.com:80"), {400}, Then::stays_open},

    // Host (RFC 9112 §3.2).
    {"Http11WithoutHost", "GET /hello HTTP/1.1\r\n\r\n", {400}, Then::closes},
    {"TwoHosts", "GET /hello HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", {400}, Then::closes},
    {"HostWithSpace", "GET /hello HTTP/1.1\r\nHost: a b\r\n\r\n", {400}, Then::closes},
    {"HostWithUserinfo", "GET /hello HTTP/1.1\r\nHost: user@a\r\n\r\n", {400}, Then::closes},
    {"HostWithBadPort", "GET /hello HTTP/1.1\r\nHost: a:b\r\n\r\n", {400}, Then::closes},
    {"HostWithTwoPorts", "GET /hello HTTP/1.1\r\nHost: a:1:2\r\n\r\n", {400}, Then::closes},
    {"HostWithEmptyPortIsValid", "GET /hello HTTP/1.1\r\nHost: a:\r\n\r\n", {200}, Then::stays_open},
    {"HostPercentEncodedIsValid", "GET /hello HTTP/1.1\r\nHost: %61.b\r\n\r\n", {200}, Then::stays_open},
    {"EmptyHostIsValid", "GET /hello HTTP/1.1\r\nHost:\r\n\r\n", {200}, Then::stays_open},
    {"HostWithPortAndIpv6", "GET /hello HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", {200}, Then::stays_open},

    // Field syntax (RFC 9112 §5, RFC 9110 §5.5).
    {"SpaceBeforeColon", with_field("X-A : b"), {400}, Then::closes},
    {"ObsFold", with_field("X-A: b\r\n c"), {400}, Then::closes},
    {"WhitespaceBeforeFirstField", "GET /hello HTTP/1.1\r\n X-A: b\r\nHost: x\r\n\r\n", {400}, Then::closes},
    {"SeparatorInFieldName", with_field("X(A): b"), {400}, Then::closes},
    {"EmptyFieldName", with_field(": b"), {400}, Then::closes},
    {"LineWithoutColon", with_field("X-A"), {400}, Then::closes},
    {"ControlCharacterInValue",
     with_field("X-A: b\x01"
                "c"),
     {400},
     Then::closes},
    {"DeleteInValue", with_field("X-A: b\x7f"), {400}, Then::closes},
    {"NulInValue", with_field(std::string("X-A: b\0c", 8)), {400}, Then::closes},
    {"TabInValueAllowed", with_field("X-A: b\tc"), {200}, Then::stays_open},
    {"ObsTextInValueAllowed", with_field("X-A: caf\xe9"), {200}, Then::stays_open},
    {"SurroundingWhitespaceTrimmed", "GET /hello HTTP/1.1\r\nHost: \t x \t\r\n\r\n", {200}, Then::stays_open},
    {"BareCrInValue", with_field("X-A: b\rc"), {400}, Then::closes},
    {"BareLfLineEnds", "GET /hello HTTP/1.1\nHost: x\n\n", {400}, Then::closes},
    {"BareLfAfterRequestLine", "GET /hello HTTP/1.1\nHost: x\r\n\r\n", {400}, Then::closes},
    {"BareCrLineEnds", "GET /hello HTTP/1.1\rHost: x\r\r", {400}, Then::closes},
    {"RequestLineTooLong", get("/" + std::string(9000, 'a')), {414}, Then::closes},
    {"FieldTooLarge", with_field("X-A: " + std::string(17000, 'b')), {431}, Then::closes},
    {"TooManyFields",
     [] {
       std::string fields;
       for (int i = 0; i < 2000; ++i) fields += "X-" + std::to_string(i) + ": b\r\n";
       return "GET /hello HTTP/1.1\r\nHost: x\r\n" + fields + "\r\n";
     }(),
     {431},
     Then::closes},

    // Content-Length (RFC 9110 §8.6, RFC 9112 §6.3).
    {"ContentLengthBody", put("Content-Length: 5", "hello"), {204}, Then::stays_open},
    {"ContentLengthLeadingZeros", put("Content-Length: 005", "hello"), {204}, Then::stays_open},
    {"GetWithBodyConsumesIt",
     "GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
     {200},
     Then::stays_open},
    {"ContentLengthPlusSign", put("Content-Length: +5", "hello"), {400}, Then::closes},
    {"ContentLengthNegative", put("Content-Length: -5", "hello"), {400}, Then::closes},
    {"ContentLengthInnerSpace", put("Content-Length: 1 0", "hello"), {400}, Then::closes},
    {"ContentLengthHex", put("Content-Length: 0x5", "hello"), {400}, Then::closes},
    {"ContentLengthEmpty", put("Content-Length:", "hello"), {400}, Then::closes},
    {"ContentLengthOverflow", put("Content-Length: 18446744073709551616", "hello"), {400}, Then::closes},
    // RFC 9110 §8.6 lets a recipient take a repeated equal value as one.
    {"ContentLengthList", put("Content-Length: 5, 5", "hello"), {204}, Then::stays_open},
    {"ContentLengthTwiceSame",
     put("Content-Length: 5\r\nContent-Length: 5", "hello"),
     {204},
     Then::stays_open},
    {"ContentLengthListDiffering", put("Content-Length: 5, 6", "hello!"), {400}, Then::closes},
    {"ContentLengthTwiceDiffering",
     put("Content-Length: 5\r\nContent-Length: 6", "hello!"),
     {400},
     Then::closes},
    {"ContentLengthWithChunked",
     put("Content-Length: 5\r\nTransfer-Encoding: chunked", "0\r\n\r\n"),
     {400},
     Then::closes},
    {"ChunkedWithContentLength",
     put("Transfer-Encoding: chunked\r\nContent-Length: 5", "0\r\n\r\n"),
     {400},
     Then::closes},
    {"ContentLengthTooLarge", put("Content-Length: 2000", std::string(2000, 'a')), {413}, Then::closes},

    // Chunked (RFC 9112 §7.1).
    {"Chunked", chunked("5\r\nhello\r\n0\r\n\r\n"), {204}, Then::stays_open},
    {"ChunkedAnyCase", put("Transfer-Encoding: ChUnKeD", "5\r\nhello\r\n0\r\n\r\n"), {204}, Then::stays_open},
    {"ChunkedUppercaseHex", chunked("A\r\n0123456789\r\n0\r\n\r\n"), {204}, Then::stays_open},
    {"ChunkExtensionsIgnored", chunked("5;a=b;c\r\nhello\r\n0;d=\"e f\"\r\n\r\n"), {204}, Then::stays_open},
    {"TrailersDropped", chunked("5\r\nhello\r\n0\r\nX-T: y\r\n\r\n"), {204}, Then::stays_open},
    {"ChunkSizeNotHex", chunked("zz\r\nhello\r\n0\r\n\r\n"), {400}, Then::closes},
    {"ChunkSizeWith0x", chunked("0x5\r\nhello\r\n0\r\n\r\n"), {400}, Then::closes},
    {"ChunkSizeNegative", chunked("-5\r\nhello\r\n0\r\n\r\n"), {400}, Then::closes},
    {"ChunkSizeOverflow", chunked("10000000000000005\r\nhello\r\n0\r\n\r\n"), {400}, Then::closes},
    {"ChunkSizeMissing", chunked("\r\nhello\r\n0\r\n\r\n"), {400}, Then::closes},
    {"ChunkDataLongerThanSize", chunked("3\r\nhello\r\n0\r\n\r\n"), {400}, Then::closes},
    {"ChunkWithoutCrlfAfterData", chunked("5\r\nhello0\r\n\r\n"), {400}, Then::closes},
    {"ChunkLinesWithBareLf", chunked("5\nhello\n0\n\n"), {400}, Then::closes},
    {"ChunkLineWithBareCr", chunked("5\rhello\r\n0\r\n\r\n"), {400}, Then::closes},
    {"ChunkExtensionWithBareLf", chunked("5;a\nb\r\nhello\r\n0\r\n\r\n"), {400}, Then::closes},
    {"ChunkedBodyTooLarge",
     chunked("400\r\n" + std::string(1024, 'a') + "\r\n1\r\na\r\n0\r\n\r\n"),
     {413},
     Then::closes},
    {"ChunkedNotFinal", put("Transfer-Encoding: chunked, gzip", "0\r\n\r\n"), {400}, Then::closes},
    {"ChunkedTwice", put("Transfer-Encoding: chunked, chunked", "0\r\n\r\n"), {400}, Then::closes},
    {"ChunkedTwiceInTwoFields",
     put("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked", "0\r\n\r\n"),
     {400},
     Then::closes},
    {"UnknownCodingBeforeChunkedIs501",
     put("Transfer-Encoding: gzip, chunked", "0\r\n\r\n"),
     {501},
     Then::closes},
    {"UnknownCodingInOwnFieldIs501",
     put("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked", "0\r\n\r\n"),
     {501},
     Then::closes},
    {"UnknownCodingAloneIs400", put("Transfer-Encoding: gzip", "hello"), {400}, Then::closes},
    {"IdentityCodingIs400", put("Transfer-Encoding: identity", "hello"), {400}, Then::closes},
    {"EmptyTransferEncoding", put("Transfer-Encoding:", "hello"), {400}, Then::closes},
    {"ChunkedInHttp10",
     "PUT /r HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     {400},
     Then::closes},

    // Expect (RFC 9110 §10.1.1). The body comes along here, so no 100 is due.
    {"ExpectContinueWithBodySent",
     put("Expect: 100-continue\r\nContent-Length: 5", "hello"),
     {204},
     Then::stays_open},
    {"ExpectContinueAnyCase",
     put("Expect: 100-Continue\r\nContent-Length: 5", "hello"),
     {204},
     Then::stays_open},
    {"ExpectContinueWithoutBody", with_field("Expect: 100-continue"), {200}, Then::stays_open},
    {"UnknownExpectationIs417", put("Expect: teapot\r\nContent-Length: 5", "hello"), {417}, Then::closes},
    {"ExpectContinueUnservedMethodAtOnce",
     "BREW /r HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
     "Content-Length: 5\r\n\r\n",
     {405},
     Then::closes,
     {{"Allow", allow}}},
    {"ExpectContinueTooLargeAtOnce",
     put("Expect: 100-continue\r\nContent-Length: 2000", ""),
     {413},
     Then::closes},

    // Paths (RFC 3986 §5.2.4, SPEC "Targets").
    {"DotDotBeyondRoot", get("/../hello"), {400}, Then::stays_open},
    {"DotDotBeyondRootLater", get("/a/../../hello"), {400}, Then::stays_open},
    {"EncodedDotDot", get("/%2e%2e/hello"), {400}, Then::stays_open},
    {"EncodedDotDotMixedCase", get("/%2E%2e/hello"), {400}, Then::stays_open},
    {"EncodedSlash", get("/a%2f..%2f..%2fhello"), {400}, Then::stays_open},
    {"EncodedNul", get("/hel%00lo"), {400}, Then::stays_open},
    {"InvalidPercentEncoding", get("/%zzhello"), {400}, Then::stays_open},
    {"TruncatedPercentEncoding", get("/hello%2"), {400}, Then::stays_open},
    {"BackslashInPath", get("/..\\hello"), {400}, Then::stays_open},
    {"DotSegmentsResolved", get("/a/./b/../../hello"), {200}, Then::stays_open},
    {"PercentEncodedLetters", get("/h%65llo"), {200}, Then::stays_open},
    {"QueryIgnoredByTheStore", get("/hello?x=1&y=../.."), {200}, Then::stays_open},
};

class Conformance : public ::testing::TestWithParam<Case> {
 protected:
  static void SetUpTestSuite() {
    folder_ = std::make_unique<TempFolder>();
    auto settings = test_config("memory", *folder_ / "data");
    settings.limits.max_body_bytes = max_body_bytes;
    settings.limits.header_timeout = std::chrono::milliseconds(3000);
    server_ = std::make_unique<TestServer>(settings);
    Client client(server_->port());
    ASSERT_EQ(client.request("PUT", "/hello", "hello").status, 201);
    ASSERT_EQ(client.request("PUT", "/r", "first").status, 201);
  }
  static void TearDownTestSuite() {
    server_.reset();
    folder_.reset();
  }

  static std::unique_ptr<TempFolder> folder_;
  static std::unique_ptr<TestServer> server_;
};

std::unique_ptr<TempFolder> Conformance::folder_;
std::unique_ptr<TestServer> Conformance::server_;

TEST_P(Conformance, Answers) {
  const Case& c = GetParam();
  Client client(server_->port());
  client.send(c.request);
  Reply reply;
  for (int status : c.statuses) {
    reply = client.read_reply(c.to_head);
    ASSERT_EQ(reply.status, status) << reply.status_line << "\n" << reply.body;
  }
  EXPECT_EQ(reply.status_line.substr(0, 9), "HTTP/1.1 ");
  for (const auto& [name, value] : c.fields) {
    if (value == "*") {
      EXPECT_TRUE(reply.has_header(name)) << name;
    } else if (value.empty()) {
      EXPECT_FALSE(reply.has_header(name)) << name;
    } else {
      EXPECT_EQ(reply.header(name), value) << name;
    }
  }
  if (reply.status >= 400) {
    EXPECT_EQ(reply.header("Content-Type"), "text/plain; charset=utf-8");
  }
  if (c.then == Then::closes) {
    EXPECT_EQ(reply.header("Connection"), "close");
    EXPECT_TRUE(client.closed_by_server());
  } else {
    Reply next = client.request("GET", "/hello");
    EXPECT_EQ(next.status, 200);
    EXPECT_EQ(next.body, "hello");
  }
}

std::string case_name(const ::testing::TestParamInfo<Case>& tested) { return tested.param.name; }

INSTANTIATE_TEST_SUITE_P(Rfc9112, Conformance, ::testing::ValuesIn(cases), case_name);

}  // namespace
}  // namespace verbd::test
