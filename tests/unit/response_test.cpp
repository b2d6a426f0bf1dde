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
  response.reset(false, nullptr);
  response.set_status(200);
  response.add_header("Content-Type", "text/plain");
  response.append("hi");
  std::string out = wire(response);
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\nDate: ", 0), 0u);
  EXPECT_NE(out.find(" GMT\r\nServer: verbd\r\n"), std::string::npos);
  EXPECT_NE(out.find("Content-Length: 2\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 6), "\r\n\r\nhi");
}

TEST(Response, HeadKeepsTheLengthAndDropsTheBody) {
  Response response;
  response.reset(true, nullptr);
  response.append("twelve bytes");
  std::string out = wire(response);
  EXPECT_NE(out.find("Content-Length: 12\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");
}

TEST(Response, NoContentAndNotModifiedHaveNoBodyNorLength) {
  for (int status : {204, 304}) {
    Response response;
    response.reset(false, nullptr);
    response.set_status(status);
    response.append("ignored");
    std::string out = wire(response);
    EXPECT_EQ(out.find("Content-Length"), std::string::npos);
    EXPECT_EQ(out.find("ignored"), std::string::npos);
  }
}

TEST(Response, SaysConnectionCloseOrKeepAliveAsNeeded) {
  Response response;
  response.reset(false, nullptr);
  EXPECT_NE(wire(response, false).find("Connection: close\r\n"), std::string::npos);
  EXPECT_NE(wire(response, true, 10).find("Connection: keep-alive\r\n"), std::string::npos);
  EXPECT_EQ(wire(response, true, 11).find("Connection:"), std::string::npos);
}

TEST(Response, FlagsWhatBreaksTheContract) {
  auto problem = [](auto&& act) {
    Response response;
    response.reset(false, nullptr);
    act(response);
    return response.problem();
  };
  EXPECT_EQ(problem([](Response& r) { r.set_status(99); }), "status 99 is outside 200-599");
  EXPECT_EQ(problem([](Response& r) { r.set_status(600); }), "status 600 is outside 200-599");
  EXPECT_EQ(problem([](Response& r) { r.add_header("content-length", "1"); }),
            "header content-length belongs to the host");
  EXPECT_EQ(problem([](Response& r) { r.add_header("Server", "x"); }), "header Server belongs to the host");
  EXPECT_EQ(problem([](Response& r) { r.add_header("X-A", "a\r\nB: c"); }),
            "header X-A has CR, LF or NUL in its value");
  EXPECT_EQ(problem([](Response& r) { r.add_header("Bad Name", "x"); }),
            "header name 'Bad Name' is not a token");
  EXPECT_EQ(problem([](Response& r) { r.add_header("X-Fine", "ok\tvalue"); }), "");
}

TEST(Response, GivesEmptyErrorsATextBody) {
  Response response;
  response.reset(false, nullptr);
  response.set_status(404);
  response.complete_error_page();
  std::string out = wire(response);
  EXPECT_NE(out.find("Content-Type: text/plain; charset=utf-8\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 14), "404 Not Found\n");
}

}  // namespace
}  // namespace verbd::http
