// The plugin loader against the fake plugins in tests/plugins: each bad one
// is refused with a reason naming its file, while the good ones load and serve.
#include "../support/http_client.hpp"
#include "../support/plugin_folder.hpp"
#include "../support/temp_folder.hpp"
#include "../support/test_server.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace verbd::test {
namespace {

namespace fs = std::filesystem;

std::string refusal_for(const plugin::LoadReport& report, const std::string& file) {
  for (const auto& refused : report.refused)
    if (refused.file.filename() == file) return refused.reason;
  return "(not refused)";
}

std::vector<std::string> methods(const plugin::LoadReport& report) {
  std::vector<std::string> all;
  for (const auto& plugin : report.generation->plugins())
    for (const auto& method : plugin->methods()) all.push_back(method);
  std::sort(all.begin(), all.end());
  return all;
}

class LoaderTest : public ::testing::Test {
 protected:
  TempFolder folder_;
  config::Config config(const std::string& backend = "memory") {
    return test_config(backend, folder_ / "data", folder_ / "plugins");
  }
};

TEST_F(LoaderTest, LoadsAGoodPluginWithItsSettings) {
  stock(folder_, {"good"});
  auto settings = config();
  settings.plugins.settings["echo"]["greeting"] = std::string("bonjour");
  TestServer server(settings);
  ASSERT_TRUE(server.report().refused.empty());
  EXPECT_EQ(methods(server.report()), std::vector<std::string>{"ECHO"});
  const auto& plugin = *server.report().generation->plugins().front();
  EXPECT_EQ(plugin.name(), "echo");
  EXPECT_EQ(plugin.version(), "2.1.0");
  EXPECT_EQ(plugin.abi(), "1.4");

  Reply reply = fetch(server.port(), "ECHO", "/a/../b?x=1", "payload");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("X-Greeting"), "bonjour");
  EXPECT_EQ(reply.body, "ECHO /b?x=1\npayload");
}

TEST_F(LoaderTest, RefusesEachBadPluginWithAReasonAndKeepsTheRest) {
  stock(folder_, {"good", "wrong_abi", "newer_minor", "wrong_magic", "no_descriptor", "factory_throws"});
  folder_.write("plugins/junk.so", "this is not a shared library\n");
  folder_.write("plugins/README.txt", "not a .so: ignored\n");
  TestServer server(config());
  const auto& report = server.report();
  EXPECT_EQ(report.refused.size(), 6u);
  EXPECT_EQ(refusal_for(report, "wrong_abi.so"),
            "built for SDK ABI 2, this host speaks ABI 1: rebuild it against this SDK");
  EXPECT_EQ(
      refusal_for(report, "newer_minor.so"),
      "built for SDK ABI 1.9, newer than this host's 1.4: upgrade verbd, or rebuild it against this SDK");
  EXPECT_EQ(
      refusal_for(report, "wrong_magic.so"),
      "its descriptor has magic 0xdeadbeef, not 0x56524244: it is not a verbd plugin, or it is damaged");
  EXPECT_EQ(refusal_for(report, "no_descriptor.so"),
            "exports no 'verbd_plugin' descriptor: build it with VERBD_PLUGIN(...) from <verbd/plugin.hpp>");
  EXPECT_EQ(refusal_for(report, "factory_throws.so"), "its factory failed: no database configured");
  EXPECT_EQ(refusal_for(report, "junk.so"),
            "not a shared library (no ELF header): remove it from the plugin folder");
  EXPECT_EQ(methods(report), std::vector<std::string>{"ECHO"});
  EXPECT_EQ(fetch(server.port(), "ECHO", "/").status, 200);
  EXPECT_EQ(fetch(server.port(), "BROKEN", "/").status, 405);
}

// ABI 1.1 added the descriptor's `flags`; a 1.0 plugin ends before it.
TEST_F(LoaderTest, LoadsAPluginOfAnOlderMinorAsOneThatMayBlock) {
  stock(folder_, {"older_minor", "good"}, {"get"});
  TestServer server(config());
  ASSERT_TRUE(server.report().refused.empty());
  const auto* older = server.report().generation->find("BROKEN");
  ASSERT_NE(older, nullptr);
  EXPECT_EQ(older->abi(), "1.0");
  EXPECT_FALSE(older->never_blocks());  // its flag lies beyond its struct_size
  EXPECT_FALSE(server.report().generation->find("ECHO")->never_blocks());
  EXPECT_TRUE(server.report().generation->find("GET")->never_blocks());  // it says so
  EXPECT_EQ(fetch(server.port(), "BROKEN", "/").status, 200);
}

TEST_F(LoaderTest, RefusesASecondPluginForOneMethodNamingBothFiles) {
  stock(folder_, {"good", "duplicate"});
  TestServer server(config());
  ASSERT_EQ(server.report().refused.size(), 1u);
  EXPECT_EQ(server.report().refused.front().file.filename(), "good.so");
  EXPECT_EQ(server.report().refused.front().reason, "serves ECHO, which " +
                                                        (folder_ / "plugins/duplicate.so").string() +
                                                        " serves already: remove one of the two files");
  EXPECT_EQ(methods(server.report()), std::vector<std::string>{"ECHO"});
  EXPECT_EQ(fetch(server.port(), "ECHO", "/").body, "");  // duplicate.so answers, with no body
}

TEST_F(LoaderTest, AnEmptyOrMissingFolderServesNothingButStillAnswers) {
  TestServer server(config());
  EXPECT_EQ(server.report().refused.size(), 1u);  // the folder itself
  Reply reply = fetch(server.port(), "GET", "/");
  EXPECT_EQ(reply.status, 405);
  EXPECT_TRUE(reply.has_header("Allow"));
  EXPECT_EQ(reply.header("Allow"), "");
}

TEST_F(LoaderTest, APluginThatThrowsGets500AndTheConnectionCarriesOn) {
  stock(folder_, {"throwing"}, {"get"});
  folder_.write("data/hello.txt", "hi");
  TestServer server(config("files"));
  Client client(server.port());
  Reply thrown = client.request("THROW", "/");
  EXPECT_EQ(thrown.status, 500);
  EXPECT_EQ(thrown.body, "500 Internal Server Error: the plugin failed\n");
  EXPECT_EQ(client.request("GET", "/hello.txt").body, "hi");
}

TEST_F(LoaderTest, AnInvalidResponseFromAPluginGets500) {
  stock(folder_, {"throwing"});
  TestServer server(config());
  Client client(server.port());
  for (const char* how :
       {"/?status", "/?informational", "/?too_high", "/?owned", "/?crlf", "/?nul", "/?name"}) {
    Reply reply = client.request("BADRESP", how);
    EXPECT_EQ(reply.status, 500) << how;
    EXPECT_FALSE(reply.has_header("X-Split")) << how;
    EXPECT_FALSE(reply.has_header("Injected")) << how;
  }
  EXPECT_EQ(client.request("BADRESP", "/?fine").status, 200);
}

}  // namespace
}  // namespace verbd::test
