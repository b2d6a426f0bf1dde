// Range requests (RFC 9110 §14) through real sockets, on both store
// backends: a small resource is sent from memory, a large one from its file.
#include "../support/http_client.hpp"
#include "../support/plugin_folder.hpp"
#include "../support/process.hpp"
#include "../support/temp_folder.hpp"
#include "../support/test_server.hpp"

#include <gtest/gtest.h>

namespace verbd::test {
namespace {

std::string numbered_bytes(std::size_t size) {
  std::string bytes;
  for (int i = 0; bytes.size() < size; ++i) bytes += std::to_string(i) + ",";
  bytes.resize(size);
  return bytes;
}

class Ranges : public ::testing::TestWithParam<std::string> {
 protected:
  Ranges() : server_(test_config(GetParam(), folder_ / "data")) {}

  Reply get(std::string_view target, const std::vector<std::string>& headers) {
    return client_.request("GET", target, {}, headers);
  }
  Reply put(std::string_view target, std::string_view body) { return client_.request("PUT", target, body); }

  TempFolder folder_;
  TestServer server_;
  Client client_{server_.port()};
};

TEST_P(Ranges, OnePartOfASmallResourceIs206WithItsContentRange) {
  ASSERT_EQ(put("/a.txt", "0123456789").status, 201);
  Reply whole = get("/a.txt", {});
  EXPECT_EQ(whole.status, 200);
  EXPECT_EQ(whole.header("Accept-Ranges"), "bytes");

  Reply first = get("/a.txt", {"Range: bytes=2-4"});
  EXPECT_EQ(first.status, 206);
  EXPECT_EQ(first.body, "234");
  EXPECT_EQ(first.header("Content-Range"), "bytes 2-4/10");
  EXPECT_EQ(first.header("Content-Length"), "3");
  EXPECT_EQ(first.header("ETag"), whole.header("ETag"));  // §15.3.7: the fields a 200 would have
  EXPECT_EQ(first.header("Content-Type"), whole.header("Content-Type"));

  EXPECT_EQ(get("/a.txt", {"Range: bytes=7-"}).body, "789");
  EXPECT_EQ(get("/a.txt", {"Range: bytes=-3"}).body, "789");
  EXPECT_EQ(get("/a.txt", {"Range: bytes=-30"}).body, "0123456789");  // a suffix longer than it: all of it
  EXPECT_EQ(get("/a.txt", {"Range: bytes=8-99"}).header("Content-Range"), "bytes 8-9/10");
  EXPECT_EQ(get("/a.txt", {"Range: BYTES = ,4-4, "}).body, "4");  // unit in any case, empty elements
}

TEST_P(Ranges, APartOfALargeResourceComesFromTheRightPlace) {
  std::string large = numbered_bytes(300 * 1024);  // sent from its file by the files store
  ASSERT_EQ(put("/large", large).status, 201);
  Reply middle = get("/large", {"Range: bytes=100000-199999"});
  EXPECT_EQ(middle.status, 206);
  EXPECT_TRUE(middle.body == large.substr(100000, 100000)) << middle.body.size() << " bytes";
  EXPECT_TRUE(get("/large", {"Range: bytes=-1000"}).body == large.substr(large.size() - 1000));
  // The connection goes on after a part sent from a file.
  EXPECT_EQ(get("/large", {"Range: bytes=0-0"}).body, "0");
}

TEST_P(Ranges, APartStartingPastTheEndIs416WithTheLength) {
  put("/a.txt", "0123456789");
  for (const char* range : {"bytes=10-", "bytes=10-20", "bytes=99999999999999999999999-", "bytes=-0"}) {
    Reply reply = get("/a.txt", {std::string("Range: ") + range});
    EXPECT_EQ(reply.status, 416) << range;
    EXPECT_EQ(reply.header("Content-Range"), "bytes */10") << range;
  }
}

// Where RFC 9110 lets a server ignore Range, the whole is sent.
TEST_P(Ranges, WhatIsIgnoredGetsTheWhole) {
  put("/a.txt", "0123456789");
  put("/empty", "");
  for (const char* range :
       {"bytes=0-0,-1", "items=0-1", "bytes=5-2", "bytes=x-", "bytes=1", "bytes=", "0-1"}) {
    Reply reply = get("/a.txt", {std::string("Range: ") + range});
    EXPECT_EQ(reply.status, 200) << range;
    EXPECT_EQ(reply.body, "0123456789") << range;
  }
  EXPECT_EQ(get("/a.txt", {"Range: bytes=0-1", "Range: bytes=2-3"}).status, 200);  // two fields
  EXPECT_EQ(get("/empty", {"Range: bytes=0-"}).status, 200);

  // Not a resource: a listing is made by the plugin.
  put("/folder/b", "b");
  Reply listing = get("/folder/", {"Range: bytes=0-0"});
  EXPECT_EQ(listing.status, 200);
  EXPECT_FALSE(listing.has_header("Accept-Ranges"));

  // HEAD and other methods: Range is for GET alone (§14.2).
  Reply head = client_.request("HEAD", "/a.txt", {}, {"Range: bytes=0-1"});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), "10");
  EXPECT_EQ(head.header("Accept-Ranges"), "bytes");
}

TEST_P(Ranges, ConditionsComeFirst) {
  put("/a.txt", "0123456789");
  std::string etag = get("/a.txt", {}).header("ETag");
  EXPECT_EQ(get("/a.txt", {"Range: bytes=0-1", "If-None-Match: " + etag}).status, 304);
}

TEST_P(Ranges, IfRangeSendsThePartOnlyForTheSameVersion) {
  put("/a.txt", "0123456789");
  Reply whole = get("/a.txt", {});
  std::string etag = whole.header("ETag");
  EXPECT_EQ(get("/a.txt", {"Range: bytes=0-1", "If-Range: " + etag}).status, 206);
  EXPECT_EQ(get("/a.txt", {"Range: bytes=0-1", "If-Range: " + whole.header("Last-Modified")}).status, 206);
  EXPECT_EQ(get("/a.txt", {"Range: bytes=0-1", "If-Range: W/" + etag}).status, 200);  // weak: never
  EXPECT_EQ(get("/a.txt", {"Range: bytes=0-1", "If-Range: \"another\""}).status, 200);
  EXPECT_EQ(get("/a.txt", {"Range: bytes=0-1", "If-Range: Thu, 01 Jan 1970 00:00:00 GMT"}).status, 200);
  EXPECT_EQ(get("/a.txt", {"Range: bytes=50-", "If-Range: \"another\""}).status, 200);  // not 416

  put("/a.txt", "changed!!!");  // a new version: the old validator no longer matches
  Reply after = get("/a.txt", {"Range: bytes=0-1", "If-Range: " + etag});
  EXPECT_EQ(after.status, 200);
  EXPECT_EQ(after.body, "changed!!!");
}

INSTANTIATE_TEST_SUITE_P(Backends, Ranges, ::testing::Values("files", "memory"));

// A GET plugin in a process of its own: its worker serves the part.
TEST(RangesIsolated, AnIsolatedGetPluginsResourceIsServedInPart) {
  TempFolder folder;
  stock(folder, {}, {"get", "head"});
  folder.write("data/small", "0123456789");
  folder.write("data/large", numbered_bytes(200 * 1024));
  folder.write(
      "verbd.toml",
      "[server]\nport = 0\nworkers = 1\n[plugins]\ndirectory = \"plugins\"\n[plugins.get]\nisolation = "
      "\"process\"\n[store]\nroot = \"data\"\n[log]\naccess = false\n");
  Process verbd(folder, VERBD_BINARY, {"--config", (folder / "verbd.toml").string()});
  ASSERT_NE(verbd.port(), 0) << verbd.err();
  Client client(verbd.port());
  Reply small = client.request("GET", "/small", {}, {"Range: bytes=3-5"});
  EXPECT_EQ(small.status, 206);
  EXPECT_EQ(small.body, "345");
  Reply large = client.request("GET", "/large", {}, {"Range: bytes=150000-"});
  EXPECT_EQ(large.status, 206);
  EXPECT_TRUE(large.body == numbered_bytes(200 * 1024).substr(150000)) << large.body.size() << " bytes";
}

}  // namespace
}  // namespace verbd::test
