// The put plugin: 201/204/409/412, media types, parents.
#include "../../plugins/put/put.cpp"

#include <verbd/testing.hpp>

#include <gtest/gtest.h>

namespace {

using verbd::testing::TestHost;

TEST(PutPlugin, CreatesThenReplaces) {
  TestHost host(verbd_plugin);
  auto created = host.request("PUT", "/a b/c", "1", {{"Content-Type", "text/x-one"}});
  EXPECT_EQ(created.status, 201);
  EXPECT_EQ(created.header("Location"), "/a%20b/c");
  EXPECT_EQ(host.request("PUT", "/a b/c", "2").status, 204);
  std::string bytes;
  verbd_entry entry{};
  ASSERT_EQ(host.store().read("/a b/c", &bytes, entry), VERBD_OK);
  EXPECT_EQ(bytes, "2");
  EXPECT_EQ(std::string(entry.media_type), "text/x-one");
}

// A body that verbd would hold in a file rather than in memory is stored
// whole all the same: the plugin hands it to the store as the request's content.
TEST(PutPlugin, StoresABodyTooLargeForMemory) {
  TestHost host(verbd_plugin);
  host.set_body_in_memory_bytes(4);
  EXPECT_EQ(host.request("PUT", "/large", "more than four bytes").status, 201);
  std::string bytes;
  verbd_entry entry{};
  ASSERT_EQ(host.store().read("/large", &bytes, entry), VERBD_OK);
  EXPECT_EQ(bytes, "more than four bytes");
}

TEST(PutPlugin, RefusesCollections) {
  TestHost host(verbd_plugin);
  host.store_resource("/dir/x", "1");
  EXPECT_EQ(host.request("PUT", "/dir/", "y").status, 409);
  EXPECT_EQ(host.request("PUT", "/dir", "y").status, 409);
  EXPECT_EQ(host.request("PUT", "/dir/x/y", "z").status, 409);
  // With a precondition the plugin looks first; a collection is still 409.
  EXPECT_EQ(host.request("PUT", "/dir", "y", {{"If-None-Match", "\"nope\""}}).status, 409);
  EXPECT_EQ(host.request("PUT", "/dir", "y", {{"If-Match", "*"}}).status, 409);
}

TEST(PutPlugin, HonoursPreconditions) {
  TestHost host(verbd_plugin);
  EXPECT_EQ(host.request("PUT", "/k", "1", {{"If-Match", "*"}}).status, 412);
  EXPECT_EQ(host.request("PUT", "/k", "1", {{"If-None-Match", "*"}}).status, 201);
  EXPECT_EQ(host.request("PUT", "/k", "2", {{"If-None-Match", "*"}}).status, 412);
  verbd_entry entry{};
  host.store().stat("/k", entry);
  EXPECT_EQ(host.request("PUT", "/k", "3", {{"If-Match", entry.etag}}).status, 204);
  EXPECT_EQ(host.request("PUT", "/k", "4", {{"If-Match", entry.etag}}).status, 412);
  EXPECT_EQ(host.request("PUT", "/k", "4", {{"If-None-Match", "\"nope\""}}).status, 204);
}

}  // namespace
