// Every row of SPEC's table of method semantics, through real sockets, on
// both store backends.
#include "../support/http_client.hpp"
#include "../support/temp_folder.hpp"
#include "../support/test_server.hpp"

#include <verbd/http.hpp>

#include <gtest/gtest.h>

namespace verbd::test {
namespace {

class MethodsTest : public ::testing::TestWithParam<std::string> {
 protected:
  MethodsTest() : server_(test_config(GetParam(), folder_ / "data")) {}

  Reply send(std::string_view method, std::string_view target, std::string_view body = {},
             const std::vector<std::string>& headers = {}) {
    return client_.request(method, target, body, headers);
  }

  TempFolder folder_;
  TestServer server_;
  Client client_{server_.port()};
};

TEST_P(MethodsTest, GetExistingResource) {
  ASSERT_EQ(send("PUT", "/page.html", "<p>hi</p>").status, 201);
  Reply reply = send("GET", "/page.html");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "<p>hi</p>");
  EXPECT_EQ(reply.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(reply.header("Content-Length"), "9");
  EXPECT_EQ(reply.header("ETag").front(), '"');
  EXPECT_TRUE(parse_http_date(reply.header("Last-Modified")).has_value());
  EXPECT_TRUE(parse_http_date(reply.header("Date")).has_value());
  EXPECT_EQ(reply.header("Server"), "verbd");
}

TEST_P(MethodsTest, GetConditionalAnswers304) {
  send("PUT", "/doc", "text");
  Reply first = send("GET", "/doc");
  Reply by_tag = send("GET", "/doc", {}, {"If-None-Match: " + first.header("ETag")});
  EXPECT_EQ(by_tag.status, 304);
  EXPECT_EQ(by_tag.body, "");
  EXPECT_EQ(by_tag.header("ETag"), first.header("ETag"));
  EXPECT_EQ(send("GET", "/doc", {}, {"If-None-Match: \"other\""}).status, 200);
  EXPECT_EQ(send("GET", "/doc", {}, {"If-Modified-Since: " + first.header("Last-Modified")}).status, 304);
  EXPECT_EQ(send("GET", "/doc", {}, {"If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT"}).status, 200);
  // If-None-Match decides when both are present (RFC 9110 §13.2.2).
  EXPECT_EQ(send("GET", "/doc", {},
                 {"If-None-Match: \"other\"", "If-Modified-Since: " + first.header("Last-Modified")})
                .status,
            200);
}

TEST_P(MethodsTest, GetCollectionGivesIndexOrListing) {
  send("PUT", "/site/a.txt", "a");
  send("PUT", "/site/sub/b.txt", "b");
  Reply listing = send("GET", "/site/");
  EXPECT_EQ(listing.status, 200);
  EXPECT_EQ(listing.body, "a.txt\nsub/\n");
  EXPECT_EQ(listing.header("Content-Type"), "text/plain; charset=utf-8");
  send("PUT", "/site/index.html", "<h1>home</h1>");
  Reply index = send("GET", "/site/");
  EXPECT_EQ(index.body, "<h1>home</h1>");
  EXPECT_EQ(index.header("Content-Type"), "text/html; charset=utf-8");
}

TEST_P(MethodsTest, GetMissingIs404) {
  EXPECT_EQ(send("GET", "/missing").status, 404);
  EXPECT_EQ(send("GET", "/missing/").status, 404);
}

TEST_P(MethodsTest, HeadIsGetWithoutBody) {
  send("PUT", "/h.txt", "twelve bytes");
  send("PUT", "/dir/x", "1");
  for (const char* target : {"/h.txt", "/dir/", "/absent"}) {
    Reply get = send("GET", target);
    Reply head = send("HEAD", target);
    EXPECT_EQ(head.status, get.status) << target;
    EXPECT_EQ(head.header("Content-Length"), get.header("Content-Length")) << target;
    EXPECT_EQ(head.header("Content-Type"), get.header("Content-Type")) << target;
    EXPECT_EQ(head.header("ETag"), get.header("ETag")) << target;
    EXPECT_EQ(head.body, "") << target;
  }
  // Nothing follows a HEAD response: the next response starts right away.
  EXPECT_EQ(send("GET", "/h.txt").body, "twelve bytes");
}

TEST_P(MethodsTest, PutCreatesThenReplaces) {
  Reply created = send("PUT", "/new/deep/file", "v1");
  EXPECT_EQ(created.status, 201);
  EXPECT_EQ(created.header("Location"), "/new/deep/file");
  Reply replaced = send("PUT", "/new/deep/file", "v2");
  EXPECT_EQ(replaced.status, 204);
  EXPECT_FALSE(replaced.has_header("Content-Length"));
  EXPECT_EQ(send("GET", "/new/deep/file").body, "v2");
  EXPECT_EQ(send("GET", "/new/").body, "deep/\n");
}

TEST_P(MethodsTest, PutKeepsTheRequestMediaType) {
  send("PUT", "/data", "{\"a\":1}", {"Content-Type: application/json"});
  EXPECT_EQ(send("GET", "/data").header("Content-Type"), "application/json");
  send("PUT", "/raw", "x");
  EXPECT_EQ(send("GET", "/raw").header("Content-Type"), "application/octet-stream");
}

TEST_P(MethodsTest, PutPreconditions) {
  EXPECT_EQ(send("PUT", "/p", "1", {"If-Match: *"}).status, 412);
  EXPECT_EQ(send("GET", "/p").status, 404);
  EXPECT_EQ(send("PUT", "/p", "1", {"If-None-Match: *"}).status, 201);
  EXPECT_EQ(send("PUT", "/p", "2", {"If-None-Match: *"}).status, 412);
  std::string tag = send("GET", "/p").header("ETag");
  EXPECT_EQ(send("PUT", "/p", "3", {"If-Match: \"stale\""}).status, 412);
  EXPECT_EQ(send("PUT", "/p", "3", {"If-Match: " + tag}).status, 204);
  EXPECT_EQ(send("PUT", "/p", "4", {"If-Match: " + tag}).status, 412);  // the tag changed with the write
  EXPECT_EQ(send("GET", "/p").body, "3");
}

TEST_P(MethodsTest, PutToACollectionIs409) {
  send("PUT", "/c/member", "x");
  EXPECT_EQ(send("PUT", "/c/", "y").status, 409);
  EXPECT_EQ(send("PUT", "/c", "y").status, 409);
  send("PUT", "/file", "x");
  EXPECT_EQ(send("PUT", "/file/child", "y").status, 409);
}

TEST_P(MethodsTest, PostAppendsOrCreates) {
  Reply created = send("POST", "/log", "one\n");
  EXPECT_EQ(created.status, 201);
  EXPECT_EQ(created.header("Location"), "/log");
  EXPECT_EQ(send("POST", "/log", "two\n").status, 200);
  EXPECT_EQ(send("GET", "/log").body, "one\ntwo\n");
}

TEST_P(MethodsTest, PostToACollectionCreatesAMember) {
  send("PUT", "/inbox/first", "1");
  Reply created = send("POST", "/inbox/", "hello");
  ASSERT_EQ(created.status, 201);
  std::string location = created.header("Location");
  ASSERT_EQ(location.rfind("/inbox/", 0), 0u) << location;
  EXPECT_EQ(send("GET", location).body, "hello");
  Reply again = send("POST", "/inbox", "world");  // without the slash, too
  ASSERT_EQ(again.status, 201);
  EXPECT_NE(again.header("Location"), location);
  EXPECT_EQ(send("GET", again.header("Location")).body, "world");
}

TEST_P(MethodsTest, PostToAMissingCollectionIs404) { EXPECT_EQ(send("POST", "/nowhere/", "x").status, 404); }

TEST_P(MethodsTest, DeleteResourceAndCollection) {
  send("PUT", "/d/one", "1");
  send("PUT", "/d/sub/two", "2");
  EXPECT_EQ(send("DELETE", "/d/one").status, 204);
  EXPECT_EQ(send("GET", "/d/one").status, 404);
  EXPECT_EQ(send("DELETE", "/d/one").status, 404);
  EXPECT_EQ(send("DELETE", "/d/").status, 204);
  EXPECT_EQ(send("GET", "/d/sub/two").status, 404);
  EXPECT_EQ(send("GET", "/d/").status, 404);
}

TEST_P(MethodsTest, DeleteRootEmptiesTheStore) {
  send("PUT", "/a", "1");
  send("PUT", "/b/c", "2");
  EXPECT_EQ(send("DELETE", "/").status, 204);
  EXPECT_EQ(send("GET", "/").body, "");
  EXPECT_EQ(send("PUT", "/a", "again").status, 201);
}

TEST_P(MethodsTest, UnservedMethodIs405WithAllow) {
  Reply reply = send("PATCH", "/a", "x");
  EXPECT_EQ(reply.status, 405);
  EXPECT_EQ(reply.header("Allow"), "DELETE, GET, HEAD, POST, PUT");
  EXPECT_EQ(send("get", "/").status, 405);  // methods are case-sensitive
  EXPECT_EQ(send("GET", "/").status, 200);  // and the connection is still good
}

TEST_P(MethodsTest, TraversalIsRefusedBeforeAnyPlugin) {
  EXPECT_EQ(send("GET", "/../etc/passwd").status, 400);
  EXPECT_EQ(send("GET", "/%2e%2e/etc/passwd").status, 400);
  EXPECT_EQ(send("PUT", "/a%2Fb", "x").status, 400);
  EXPECT_EQ(send("GET", "/a%00").status, 400);
  EXPECT_EQ(send("GET", "/.verbd-tmp/").status, 400);
}

INSTANTIATE_TEST_SUITE_P(Backends, MethodsTest, ::testing::Values("files", "memory"));

}  // namespace
}  // namespace verbd::test
