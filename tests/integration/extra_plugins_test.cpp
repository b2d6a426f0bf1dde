// The example plugins of plugins-extra/: OPTIONS and PATCH.
#include "../support/http_client.hpp"
#include "../support/temp_folder.hpp"
#include "../support/test_server.hpp"

#include <gtest/gtest.h>

namespace verbd::test {
namespace {

namespace fs = std::filesystem;

class ExtraPlugins : public ::testing::Test {
 protected:
  ExtraPlugins() {
    fs::create_directories(folder_ / "plugins");
    for (const char* method : {"get", "put"})
      fs::copy_file(fs::path(VERBD_PLUGIN_DIR) / (std::string(method) + ".so"),
                    folder_ / ("plugins/" + std::string(method) + ".so"));
    for (const char* method : {"options", "patch"})
      fs::copy_file(fs::path(VERBD_EXTRA_PLUGIN_DIR) / (std::string(method) + ".so"),
                    folder_ / ("plugins/" + std::string(method) + ".so"));
    server_ = std::make_unique<TestServer>(test_config("memory", folder_ / "data", folder_ / "plugins"));
  }
  Reply send(std::string_view method, std::string_view target, std::string_view body = {},
             const std::vector<std::string>& headers = {}) {
    return fetch(server_->port(), method, target, body, headers);
  }

  TempFolder folder_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(ExtraPlugins, OptionsListsTheLiveMethods) {
  for (const char* target : {"*", "/", "/any/path"}) {
    Reply reply = send("OPTIONS", target);
    EXPECT_EQ(reply.status, 200) << target;
    EXPECT_EQ(reply.header("Allow"), "GET, OPTIONS, PATCH, PUT") << target;
    EXPECT_EQ(reply.header("Content-Length"), "0") << target;
  }
  EXPECT_EQ(send("GET", "*").status, 400);  // asterisk-form is for OPTIONS only
}

TEST_F(ExtraPlugins, PatchWritesAtAnOffset) {
  ASSERT_EQ(send("PUT", "/text", "Hello, world").status, 201);
  EXPECT_EQ(send("PATCH", "/text", "W", {"Patch-Offset: 7"}).status, 204);
  EXPECT_EQ(send("GET", "/text").body, "Hello, World");
  EXPECT_EQ(send("PATCH", "/text", "!!", {"Patch-Offset: 12"}).status, 204);  // at the end: appends
  EXPECT_EQ(send("GET", "/text").body, "Hello, World!!");
  EXPECT_EQ(send("PATCH", "/text", "?#", {"Patch-Offset: 13"}).status, 204);  // past the end: grows
  EXPECT_EQ(send("GET", "/text").body, "Hello, World!?#");
}

TEST_F(ExtraPlugins, PatchRefusesWhatItCannotDo) {
  send("PUT", "/text", "abc");
  send("PUT", "/folder/x", "1");
  EXPECT_EQ(send("PATCH", "/text", "x").status, 400);
  EXPECT_EQ(send("PATCH", "/text", "x", {"Patch-Offset: -1"}).status, 400);
  EXPECT_EQ(send("PATCH", "/text", "x", {"Patch-Offset: 1x"}).status, 400);
  EXPECT_EQ(send("PATCH", "/text", "x", {"Patch-Offset: 4"}).status, 416);
  EXPECT_EQ(send("PATCH", "/missing", "x", {"Patch-Offset: 0"}).status, 404);
  EXPECT_EQ(send("PATCH", "/folder/", "x", {"Patch-Offset: 0"}).status, 409);
  EXPECT_EQ(send("PATCH", "/folder", "x", {"Patch-Offset: 0"}).status, 409);
  EXPECT_EQ(send("PATCH", "/text", "x", {"Patch-Offset: 0", "If-Match: \"stale\""}).status, 412);
  EXPECT_EQ(send("GET", "/text").body, "abc");
}

}  // namespace
}  // namespace verbd::test
