// Range requests (RFC 9110 §14) through real sockets, on both store
// backends: a small resource is sent from memory, a large one from its
// file; several parts in a multipart/byteranges body.
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

// One part of a multipart/byteranges body.
struct BodyPart {
  std::string content_type, content_range, bytes;
};

// The parts of `reply`, a 206 with a multipart/byteranges body (RFC 9110
// §14.6), read as a client would: by the boundary its Content-Type names.
// Fails the test when the body does not have that form.
std::vector<BodyPart> multipart_parts(const Reply& reply) {
  std::vector<BodyPart> parts;
  std::string type = reply.header("Content-Type");
  std::string prefix = "multipart/byteranges; boundary=";
  EXPECT_TRUE(type.starts_with(prefix)) << type;
  if (!type.starts_with(prefix)) return parts;
  std::string delimiter = "--" + type.substr(prefix.size());
  std::string_view rest = reply.body;
  while (rest.starts_with(delimiter + "\r\n")) {
    rest.remove_prefix(delimiter.size() + 2);
    auto head_end = rest.find("\r\n\r\n");
    auto next = rest.find("\r\n" + delimiter);
    if (head_end == std::string_view::npos || next == std::string_view::npos || next < head_end) break;
    BodyPart part;
    std::string_view head = rest.substr(0, head_end + 2);
    while (!head.empty()) {
      std::string_view line = head.substr(0, head.find("\r\n"));
      head.remove_prefix(line.size() + 2);
      if (line.starts_with("Content-Type: ")) part.content_type = line.substr(14);
      if (line.starts_with("Content-Range: ")) part.content_range = line.substr(15);
    }
    part.bytes = rest.substr(head_end + 4, next - head_end - 4);
    parts.push_back(part);
    rest.remove_prefix(next + 2);
  }
  EXPECT_EQ(rest, delimiter + "--\r\n") << "after " << parts.size() << " parts";
  return parts;
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
       {"bytes=9-9,0-0", "items=0-1", "bytes=5-2", "bytes=x-", "bytes=1", "bytes=", "0-1"}) {
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

TEST_P(Ranges, SeveralPartsComeInOneMultipartBody) {
  std::string bytes = numbered_bytes(1000);
  ASSERT_EQ(put("/b.txt", bytes).status, 201);
  Reply whole = get("/b.txt", {});
  Reply reply = get("/b.txt", {"Range: bytes=0-9,500-509,-5"});
  EXPECT_EQ(reply.status, 206);
  EXPECT_FALSE(reply.has_header("Content-Range"));
  EXPECT_EQ(reply.header("Content-Length"), std::to_string(reply.body.size()));
  EXPECT_EQ(reply.header("ETag"), whole.header("ETag"));
  auto parts = multipart_parts(reply);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].bytes, bytes.substr(0, 10));
  EXPECT_EQ(parts[0].content_range, "bytes 0-9/1000");
  EXPECT_EQ(parts[0].content_type, whole.header("Content-Type"));
  EXPECT_EQ(parts[1].bytes, bytes.substr(500, 10));
  EXPECT_EQ(parts[1].content_range, "bytes 500-509/1000");
  EXPECT_EQ(parts[2].bytes, bytes.substr(995));
  EXPECT_EQ(parts[2].content_range, "bytes 995-999/1000");
  EXPECT_EQ(get("/b.txt", {"Range: bytes=0-1"}).body, "0,");  // the connection goes on
}

TEST_P(Ranges, PartsThatOverlapOrLieCloseComeAsOne) {
  ASSERT_EQ(put("/b.txt", numbered_bytes(1000)).status, 201);
  for (const char* range : {"bytes=0-5,3-9", "bytes=0-4,5-9", "bytes=0-0,9-9"}) {
    Reply reply = get("/b.txt", {std::string("Range: ") + range});
    EXPECT_EQ(reply.status, 206) << range;
    EXPECT_EQ(reply.header("Content-Range"), "bytes 0-9/1000") << range;
    EXPECT_EQ(reply.body, numbered_bytes(10)) << range;
  }
  // Parts past the end are left out; the rest is served.
  EXPECT_EQ(get("/b.txt", {"Range: bytes=5000-,0-1"}).header("Content-Range"), "bytes 0-1/1000");
  // Out of ascending order: perhaps an attack (§14.2), the whole is sent.
  EXPECT_EQ(get("/b.txt", {"Range: bytes=500-509,0-9"}).status, 200);
}

TEST_P(Ranges, PartsOfALargeResourceAreReadFromItsFileUpToALimit) {
  std::string large = numbered_bytes(1536 * 1024);  // sent from its file by the files store
  ASSERT_EQ(put("/large", large).status, 201);
  auto parts = multipart_parts(get("/large", {"Range: bytes=100-199,1000000-1000099"}));
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].bytes, large.substr(100, 100));
  EXPECT_EQ(parts[1].bytes, large.substr(1000000, 100));
  // More than a MiB in several parts would be copied into memory: the whole is sent.
  Reply whole = get("/large", {"Range: bytes=0-1048576,1500000-1500009"});
  EXPECT_EQ(whole.status, 200);
  EXPECT_TRUE(whole.body == large) << whole.body.size() << " bytes";
  EXPECT_EQ(get("/large", {"Range: bytes=0-0"}).body, "0");
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
  auto parts = multipart_parts(client.request("GET", "/large", {}, {"Range: bytes=0-9,150000-150009"}));
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[1].bytes, numbered_bytes(200 * 1024).substr(150000, 10));
}

}  // namespace
}  // namespace verbd::test
