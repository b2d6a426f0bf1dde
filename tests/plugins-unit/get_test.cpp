// The get plugin, unit-tested through the SDK's in-memory test host.
#include "../../plugins/get/get.cpp"

#include <verbd/testing.hpp>

#include <gtest/gtest.h>

namespace {

using verbd::testing::TestHost;

TEST(GetPlugin, SendsAResourceWithItsValidators) {
  TestHost host(verbd_plugin);
  host.store_resource("/a.txt", "hello");
  auto reply = host.request("GET", "/a.txt");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "hello");
  EXPECT_EQ(reply.header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_FALSE(reply.header("ETag").empty());
  EXPECT_TRUE(verbd::parse_http_date(reply.header("Last-Modified")).has_value());
  EXPECT_EQ(reply.problem, "");
}

TEST(GetPlugin, AnswersConditionalRequestsWith304) {
  TestHost host(verbd_plugin);
  host.store_resource("/a", "x");
  std::string tag = host.request("GET", "/a").header("ETag");
  EXPECT_EQ(host.request("GET", "/a", {}, {{"If-None-Match", tag}}).status, 304);
  EXPECT_EQ(host.request("GET", "/a", {}, {{"If-None-Match", "W/" + tag}}).status, 304);  // weak comparison
  EXPECT_EQ(host.request("GET", "/a", {}, {{"If-None-Match", "\"other\""}}).status, 200);
  EXPECT_EQ(host.request("GET", "/a", {}, {{"If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT"}}).status,
            304);
  EXPECT_EQ(host.request("GET", "/a", {}, {{"If-Modified-Since", "garbage"}}).status, 200);
}

TEST(GetPlugin, ServesACollectionsIndexOrListsIt) {
  TestHost host(verbd_plugin, {{"index", std::string("home.html")}});
  host.store_resource("/site/a", "1");
  host.store_resource("/site/sub/b", "2");
  EXPECT_EQ(host.request("GET", "/site/").body, "a\nsub/\n");
  EXPECT_EQ(host.request("GET", "/site").body, "a\nsub/\n");
  host.store_resource("/site/home.html", "<h1>home</h1>");
  EXPECT_EQ(host.request("GET", "/site/").body, "<h1>home</h1>");
  EXPECT_EQ(host.request("GET", "/nothing/").status, 404);
  EXPECT_EQ(host.request("GET", "/nothing").status, 404);
}

TEST(GetPlugin, RefusesAnIndexSettingThatIsNotAFileName) {
  EXPECT_THROW(TestHost(verbd_plugin, {{"index", std::string("../x")}}), std::runtime_error);
  EXPECT_THROW(TestHost(verbd_plugin, {{"index", std::int64_t{3}}}), std::runtime_error);
}

}  // namespace
