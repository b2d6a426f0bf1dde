#include "http/response.hpp"

#include <gtest/gtest.h>

namespace verbd::http {
namespace {

std::string wire(const Response& response, bool keep_alive = true, int version = 11) {
  std::string out;
  response.serialize(out, {"verbd", keep_alive, version});
  return out;
}

TEST(Response, CarriesDateServerLengthAndType) {
  Response response;
  response.reset(false);
  response.set_status(200);
  response.add_field("Content-Type", "text/plain");
  response.append("hi");
  std::string out = wire(response);
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\nDate: ", 0), 0u);
  EXPECT_NE(out.find(" GMT\r\nServer: verbd\r\n"), std::string::npos);
  EXPECT_NE(out.find("Content-Length: 2\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 6), "\r\n\r\nhi");
}

TEST(Response, HeadKeepsTheLengthAndDropsTheBody) {
  Response response;
  response.reset(true);
  response.append("twelve bytes");
  std::string out = wire(response);
  EXPECT_NE(out.find("Content-Length: 12\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");
}

// HEAD says what GET would send: a resource that is not read, and what
// follows it, count alike.
TEST(Response, HeadCountsBytesAppendedAfterAResourceNotRead) {
  Response response;
  response.reset(true);
  response.set_unread_body(1000);
  response.append("and more");
  EXPECT_EQ(response.content_length(), 1008u);
  EXPECT_NE(wire(response).find("Content-Length: 1008\r\n"), std::string::npos);
}

TEST(Response, NoContentAndNotModifiedHaveNoBodyNorLength) {
  for (int status : {204, 304}) {
    Response response;
    response.reset(false);
    response.set_status(status);
    response.append("ignored");
    std::string out = wire(response);
    EXPECT_EQ(out.find("Content-Length"), std::string::npos);
    EXPECT_EQ(out.find("ignored"), std::string::npos);
  }
}

TEST(Response, SaysConnectionCloseOrKeepAliveAsNeeded) {
  Response response;
  response.reset(false);
  EXPECT_NE(wire(response, false).find("Connection: close\r\n"), std::string::npos);
  EXPECT_NE(wire(response, true, 10).find("Connection: keep-alive\r\n"), std::string::npos);
  EXPECT_EQ(wire(response, true, 11).find("Connection:"), std::string::npos);
}

TEST(Response, GivesEmptyErrorsATextBody) {
  Response response;
  response.reset(false);
  response.set_status(404);
  response.complete_error_page();
  std::string out = wire(response);
  EXPECT_NE(out.find("Content-Type: text/plain; charset=utf-8\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 14), "404 Not Found\n");
}

TEST(Response, RefusalsReplaceWhatWasSetWithAnErrorPage) {
  Response response;
  response.reset(false);
  response.add_field("X-Plugin", "gone");
  response.append("partial");
  response.refuse(413, "body too large");
  std::string out = wire(response);
  EXPECT_EQ(out.find("X-Plugin"), std::string::npos);
  EXPECT_TRUE(
      out.ends_with("Content-Type: text/plain; charset=utf-8\r\nContent-Length: 38\r\n\r\n"
                    "413 Content Too Large: body too large\n"))
      << out;
}

TEST(Response, ABodyWithoutATypeIsOctetStream) {
  Response response;
  response.reset(false);
  response.append("?");
  EXPECT_NE(wire(response).find("Content-Type: application/octet-stream\r\n"), std::string::npos);
  response.reset(false);
  EXPECT_EQ(wire(response).find("Content-Type"), std::string::npos);  // no body, no type
}

TEST(Response, FindsTheFirstFieldOfANameInAnyCase) {
  Response response;
  response.reset(false);
  response.add_field("Accept-Ranges-Extra", "no");
  response.add_field("ETag", "\"a\"");
  response.add_field("Accept-Ranges", " none\t");
  response.add_field("accept-ranges", "bytes");
  response.add_field("X", "");
  EXPECT_EQ(response.field("accept-RANGES"), "none");  // not the longer name; whitespace trimmed
  EXPECT_EQ(response.field("etag"), "\"a\"");
  EXPECT_EQ(response.field("X"), "");
  EXPECT_EQ(response.field("Accept"), "");
  EXPECT_EQ(response.field("Last-Modified"), "");
  response.replace_field("Accept-Ranges", "bytes");
  EXPECT_EQ(response.field("Accept-Ranges"), "bytes");
  EXPECT_EQ(response.field("Accept-Ranges-Extra"), "no");
}

TEST(Response, EachHeadStartsWithItsOwnStatusAndServerName) {
  Response response;  // the first lines are kept from one response to the next while they stay the same
  response.reset(false);
  EXPECT_EQ(wire(response).rfind("HTTP/1.1 200 OK\r\nDate: ", 0), 0u);
  response.set_status(404);
  std::string not_found = wire(response);
  EXPECT_EQ(not_found.rfind("HTTP/1.1 404 Not Found\r\nDate: ", 0), 0u);
  EXPECT_NE(not_found.find(" GMT\r\nServer: verbd\r\n"), std::string::npos);
  std::string other;
  response.serialize(other, {"other", true, 11});
  EXPECT_EQ(other.rfind("HTTP/1.1 404 Not Found\r\nDate: ", 0), 0u);
  EXPECT_NE(other.find(" GMT\r\nServer: other\r\n"), std::string::npos);
  EXPECT_EQ(other.find("verbd"), std::string::npos);
  response.set_status(200);
  EXPECT_EQ(wire(response).rfind("HTTP/1.1 200 OK\r\nDate: ", 0), 0u);
}

}  // namespace
}  // namespace verbd::http
