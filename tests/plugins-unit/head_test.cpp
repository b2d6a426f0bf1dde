// The head plugin: GET's status and fields, no body, the length GET would send.
#include "../../plugins/head/head.cpp"

#include <verbd/testing.hpp>

#include <gtest/gtest.h>

namespace {

using verbd::testing::TestHost;

TEST(HeadPlugin, DescribesWithoutSending) {
  TestHost host(verbd_plugin);
  host.store_resource("/page.html", "twelve bytes");
  auto reply = host.request("HEAD", "/page.html");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "");
  EXPECT_EQ(reply.content_length, 12u);
  EXPECT_EQ(reply.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(host.request("HEAD", "/missing").status, 404);
}

TEST(HeadPlugin, DescribesAListing) {
  TestHost host(verbd_plugin);
  host.store_resource("/d/x", "1");
  auto reply = host.request("HEAD", "/d/");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.content_length, 2u);  // "x\n"
}

}  // namespace
