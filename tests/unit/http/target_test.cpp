#include "http/target.hpp"

#include <gtest/gtest.h>

namespace verbd::http {
namespace {

std::string clean(std::string_view target, std::string_view method = "GET") {
  Target out;
  auto error = clean_target(target, method, out);
  return error == TargetError::none ? out.path : std::string("error: ") + describe(error);
}

TEST(Target, NormalisesPaths) {
  EXPECT_EQ(clean("/"), "/");
  EXPECT_EQ(clean("/index.html"), "/index.html");
  EXPECT_EQ(clean("/a/b/"), "/a/b/");
  EXPECT_EQ(clean("/a//b"), "/a/b");
  EXPECT_EQ(clean("/a/./b"), "/a/b");
  EXPECT_EQ(clean("/a/b/../c"), "/a/c");
  EXPECT_EQ(clean("/a/b/.."), "/a/");
  EXPECT_EQ(clean("/a/."), "/a/");
  EXPECT_EQ(clean("/a/%2e%2E/b"), "/b");
  EXPECT_EQ(clean("/%7Euser/a%20b"), "/~user/a b");
  EXPECT_EQ(clean("/caf%C3%A9"), "/caf\xC3\xA9");
}

TEST(Target, RefusesWhatCannotBeMadeClean) {
  EXPECT_EQ(clean("/.."), "error: path leads outside the root");
  EXPECT_EQ(clean("/a/../.."), "error: path leads outside the root");
  EXPECT_EQ(clean("/%2e%2e/etc/passwd"), "error: path leads outside the root");
  EXPECT_EQ(clean("/a%2Fb"), "error: path holds an encoded '/' or NUL");
  EXPECT_EQ(clean("/a%00b"), "error: path holds an encoded '/' or NUL");
  EXPECT_EQ(clean("/a%zzb"), "error: malformed request target");
  EXPECT_EQ(clean("/a%"), "error: malformed request target");
  EXPECT_EQ(clean("index.html"), "error: malformed request target");
  EXPECT_EQ(clean("*"), "error: this target form is not allowed with this method");
}

TEST(Target, KeepsTheQueryRaw) {
  Target out;
  ASSERT_EQ(clean_target("/search?q=a%20b&x", "GET", out), TargetError::none);
  EXPECT_EQ(out.path, "/search");
  EXPECT_EQ(out.query, "q=a%20b&x");
}

TEST(Target, AcceptsAbsoluteAsteriskAndAuthorityForms) {
  Target out;
  ASSERT_EQ(clean_target("http://example.com:8080/a/../b?q", "GET", out), TargetError::none);
  EXPECT_EQ(out.path, "/b");
  EXPECT_EQ(out.authority, "example.com:8080");
  EXPECT_EQ(out.query, "q");
  ASSERT_EQ(clean_target("http://example.com", "GET", out), TargetError::none);
  EXPECT_EQ(out.path, "/");
  EXPECT_EQ(clean("*", "OPTIONS"), "*");
  ASSERT_EQ(clean_target("example.com:443", "CONNECT", out), TargetError::none);
  EXPECT_EQ(out.authority, "example.com:443");
}

}  // namespace
}  // namespace verbd::http
