// The delete plugin: resources, collections, the root.
#include "../../plugins/delete/delete.cpp"

#include <verbd/testing.hpp>

#include <gtest/gtest.h>

namespace {

using verbd::testing::TestHost;

TEST(DeletePlugin, RemovesWhatIsThere) {
  TestHost host(verbd_plugin);
  host.store_resource("/a/b", "1");
  host.store_resource("/c", "2");
  EXPECT_EQ(host.request("DELETE", "/a/b").status, 204);
  EXPECT_EQ(host.request("DELETE", "/a/b").status, 404);
  EXPECT_EQ(host.request("DELETE", "/a/").status, 204);
  EXPECT_EQ(host.request("DELETE", "/").status, 204);
  std::string lines;
  host.store().list("/", lines);
  EXPECT_EQ(lines, "");
}

}  // namespace
