// The two walkthroughs a newcomer does first, exactly as written in the
// README, on both backends.
#include "../support/http_client.hpp"
#include "../support/temp_folder.hpp"
#include "../support/test_server.hpp"

#include <gtest/gtest.h>

namespace verbd::test {
namespace {

class Walkthrough : public ::testing::TestWithParam<std::string> {
 protected:
  Walkthrough() {
    folder_.write("data/index.html", "HTTP GET Method (Success)\n");
    server_ = std::make_unique<TestServer>(test_config(GetParam(), folder_ / "data"));
    if (GetParam() == "memory")  // the memory store starts empty: give it the same page
      fetch(server_->port(), "PUT", "/index.html", "HTTP GET Method (Success)\n");
  }
  std::uint16_t port() const { return server_->port(); }

  TempFolder folder_;
  std::unique_ptr<TestServer> server_;
};

TEST_P(Walkthrough, MessageBoard) {
  EXPECT_EQ(fetch(port(), "POST", "/board", "Computer Network\n").status, 201);
  EXPECT_EQ(fetch(port(), "POST", "/board", "Socket\n").status, 200);
  Reply board = fetch(port(), "GET", "/board");
  EXPECT_EQ(board.status, 200);
  EXPECT_EQ(board.body, "Computer Network\nSocket\n");
  EXPECT_EQ(fetch(port(), "DELETE", "/board").status, 204);
  EXPECT_EQ(fetch(port(), "GET", "/board").status, 404);
  Reply patch = fetch(port(), "PATCH", "/board", "x");
  EXPECT_EQ(patch.status, 405);
  EXPECT_EQ(patch.header("Allow"), "DELETE, GET, HEAD, POST, PUT");
  EXPECT_EQ(fetch(port(), "GET", "/wrong/").status, 404);
  EXPECT_EQ(fetch(port(), "POST", "/wrong/", "x").status, 404);
}

TEST_P(Walkthrough, KeyValue) {
  Reply index = fetch(port(), "GET", "/index.html");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "HTTP GET Method (Success)\n");
  EXPECT_EQ(fetch(port(), "GET", "/test.html").status, 404);
  Reply head = fetch(port(), "HEAD", "/index.html");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), "26");
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(fetch(port(), "PUT", "/db/name", "kangjuseong").status, 201);
  EXPECT_EQ(fetch(port(), "PUT", "/db/name", "juseong-kang").status, 204);
  EXPECT_EQ(fetch(port(), "PUT", "/db/grade", "A", {"If-Match: *"}).status, 412);
  Reply listing = fetch(port(), "GET", "/db/");
  EXPECT_EQ(listing.status, 200);
  EXPECT_EQ(listing.body, "name\n");
  EXPECT_EQ(fetch(port(), "GET", "/db/name").body, "juseong-kang");
}

INSTANTIATE_TEST_SUITE_P(Backends, Walkthrough, ::testing::Values("files", "memory"));

}  // namespace
}  // namespace verbd::test
