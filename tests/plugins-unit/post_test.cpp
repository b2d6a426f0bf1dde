// The post plugin: append, create, members of collections.
#include "../../plugins/post/post.cpp"

#include <verbd/testing.hpp>

#include <gtest/gtest.h>

namespace {

using verbd::testing::TestHost;

TEST(PostPlugin, AppendsAndSaysWhetherItCreated) {
  TestHost host(verbd_plugin);
  auto first = host.request("POST", "/board", "one\n");
  EXPECT_EQ(first.status, 201);
  EXPECT_EQ(first.header("Location"), "/board");
  EXPECT_EQ(host.request("POST", "/board", "two\n").status, 200);
  std::string bytes;
  verbd_entry entry{};
  host.store().read("/board", &bytes, entry);
  EXPECT_EQ(bytes, "one\ntwo\n");
}

TEST(PostPlugin, AppendsABodyTooLargeForMemory) {
  TestHost host(verbd_plugin);
  host.set_body_in_memory_bytes(4);
  EXPECT_EQ(host.request("POST", "/board", "first line\n").status, 201);
  EXPECT_EQ(host.request("POST", "/board", "second line\n").status, 200);
  std::string bytes;
  verbd_entry entry{};
  host.store().read("/board", &bytes, entry);
  EXPECT_EQ(bytes, "first line\nsecond line\n");
}

TEST(PostPlugin, MakesUniqueMembersInACollection) {
  TestHost host(verbd_plugin);
  host.store_resource("/inbox/first", "1");
  auto a = host.request("POST", "/inbox/", "a");
  auto b = host.request("POST", "/inbox/", "b");
  EXPECT_EQ(a.status, 201);
  EXPECT_EQ(b.status, 201);
  EXPECT_NE(a.header("Location"), b.header("Location"));
  EXPECT_EQ(a.header("Location").rfind("/inbox/", 0), 0u);
  EXPECT_EQ(host.request("POST", "/nowhere/", "x").status, 404);
}

}  // namespace
