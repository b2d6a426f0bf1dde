// The verbd program itself: exit codes, --check, --version, config errors,
// and a clean stop on SIGTERM and SIGINT.
#include "../support/http_client.hpp"
#include "../support/process.hpp"
#include "../support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <thread>

namespace verbd::test {
namespace {

namespace fs = std::filesystem;

class CommandLine : public ::testing::Test {
 protected:
  CommandLine() {
    folder_.write("verbd.toml", "[server]\nport = 0\n[plugins]\ndirectory = \"" +
                                    std::string(VERBD_PLUGIN_DIR) +
                                    "\"\n[store]\nroot = \"data\"\nfsync = false\n");
    folder_.write("data/index.html", "HTTP GET Method (Success)\n");
  }
  std::string config() const { return (folder_ / "verbd.toml").string(); }
  TempFolder folder_;
};

TEST_F(CommandLine, PrintsItsVersion) {
  Process verbd(folder_, VERBD_BINARY, {"--version"});
  EXPECT_EQ(verbd.exit_code(), 0);
  EXPECT_EQ(verbd.out(), "verbd " VERBD_VERSION " (plugin ABI 1.4)\n");
}

TEST_F(CommandLine, WantsAConfigFile) {
  Process verbd(folder_, VERBD_BINARY, {});
  EXPECT_EQ(verbd.exit_code(), 2);
  EXPECT_NE(verbd.err().find("--config is required"), std::string::npos) << verbd.err();
}

TEST_F(CommandLine, ABadConfigExitsWith2AndNamesThePlace) {
  folder_.write("bad.toml", "[server]\nport = \"eighty\"\n");
  Process verbd(folder_, VERBD_BINARY, {"--config", (folder_ / "bad.toml").string()});
  EXPECT_EQ(verbd.exit_code(), 2);
  EXPECT_EQ(verbd.err(), "verbd: " + (folder_ / "bad.toml").string() +
                             ":2:8: server.port must be an integer from 0 to 65535\n");
}

TEST_F(CommandLine, CheckPrintsThePluginTable) {
  Process verbd(folder_, VERBD_BINARY, {"--check", "--config", config()});
  EXPECT_EQ(verbd.exit_code(), 0);
  std::string table = verbd.out();
  EXPECT_EQ(table.rfind("METHOD", 0), 0u);
  for (const char* row : {"GET        get.so", "HEAD       head.so", "POST       post.so",
                          "PUT        put.so", "DELETE     delete.so"})
    EXPECT_NE(table.find(row), std::string::npos) << row << "\n" << table;
  EXPECT_NE(table.find("1.0.0      1.4"), std::string::npos) << table;
}

TEST_F(CommandLine, CheckFailsNamingEachBadFile) {
  fs::create_directories(folder_ / "plugins");
  fs::copy_file(fs::path(VERBD_PLUGIN_DIR) / "get.so", folder_ / "plugins/get.so");
  fs::copy_file(fs::path(VERBD_TEST_PLUGIN_DIR) / "wrong_abi.so", folder_ / "plugins/patch.so");
  Process verbd(folder_, VERBD_BINARY,
                {"--check", "--config", config(), "--plugins", (folder_ / "plugins").string()});
  EXPECT_EQ(verbd.exit_code(), 1);
  EXPECT_NE(verbd.out().find("GET        get.so"), std::string::npos);
  EXPECT_NE(verbd.err().find((folder_ / "plugins/patch.so").string() +
                             ": built for SDK ABI 2, this host speaks ABI 1: rebuild it against this SDK"),
            std::string::npos)
      << verbd.err();
}

TEST_F(CommandLine, ServesAndStopsCleanlyOnSigterm) {
  Process verbd(folder_, VERBD_BINARY, {"--config", config()});
  std::uint16_t port = verbd.port();
  ASSERT_NE(port, 0) << verbd.err();
  Reply reply = fetch(port, "GET", "/index.html");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "HTTP GET Method (Success)\n");
  verbd.signal(SIGTERM);
  EXPECT_EQ(verbd.exit_code(), 0);
  std::string log = verbd.err();
  EXPECT_NE(log.find("[plugins] info:   GET      get.so"), std::string::npos) << log;
  EXPECT_NE(log.find("127.0.0.1 - - ["), std::string::npos) << log;  // the Combined Log Format
  EXPECT_NE(log.find("\"GET /index.html HTTP/1.1\" 200 26 \"-\" \"-\""), std::string::npos) << log;
  EXPECT_NE(log.find("[server] info: stopped"), std::string::npos) << log;
}

TEST_F(CommandLine, StopsOnSigintWhileAClientIsIdle) {
  Process verbd(folder_, VERBD_BINARY, {"--config", config()});
  std::uint16_t port = verbd.port();
  ASSERT_NE(port, 0) << verbd.err();
  Client idle(port);
  EXPECT_EQ(idle.request("GET", "/index.html").status, 200);
  verbd.signal(SIGINT);
  EXPECT_EQ(verbd.exit_code(), 0);
  EXPECT_TRUE(idle.closed_by_server());
}

TEST_F(CommandLine, SighupWithABadConfigKeepsTheOldOne) {
  Process verbd(folder_, VERBD_BINARY, {"--config", config()});
  std::uint16_t port = verbd.port();
  ASSERT_NE(port, 0) << verbd.err();
  folder_.write("verbd.toml", "[server]\nport = \"eighty\"\n");
  verbd.signal(SIGHUP);
  std::string expected = "SIGHUP: config not reloaded, the old one stays in force: " + config() +
                         ":2:8: server.port must be an integer from 0 to 65535";
  for (int i = 0; i < 250 && verbd.err().find(expected) == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_NE(verbd.err().find(expected), std::string::npos) << verbd.err();
  EXPECT_EQ(fetch(port, "GET", "/index.html").status, 200);
  verbd.signal(SIGTERM);
  EXPECT_EQ(verbd.exit_code(), 0);
}

TEST_F(CommandLine, AWriteOverTheFileSizeLimitIs507AndLeavesNothingBehind) {
  // Large enough for verbd's private copies of its plugins, small for a body.
  Process verbd(folder_, VERBD_BINARY, {"--config", config()}, {}, {.max_file_bytes = 4 * 1024 * 1024});
  std::uint16_t port = verbd.port();
  ASSERT_NE(port, 0) << verbd.err();
  ASSERT_EQ(fetch(port, "PUT", "/big", "small").status, 201);
  Reply refused = fetch(port, "PUT", "/big", std::string(5 * 1024 * 1024, 'x'));
  EXPECT_EQ(refused.status, 507);
  EXPECT_EQ(fetch(port, "GET", "/big").body, "small");  // the old version, whole
  EXPECT_EQ(fetch(port, "POST", "/big", std::string(5 * 1024 * 1024, 'y')).status, 507);
  EXPECT_EQ(fetch(port, "GET", "/big").body, "small");
  EXPECT_TRUE(scratch_leftovers(folder_ / "data").empty());
  // Spooled as it arrived: refused by the connection, before a plugin saw it.
  EXPECT_NE(
      verbd.err().find("[http] warning: PUT /big: no space left for the body: answered 507, nothing kept"),
      std::string::npos)
      << verbd.err();
  verbd.signal(SIGTERM);
  EXPECT_EQ(verbd.exit_code(), 0);
}

TEST_F(CommandLine, DebugLevelPrintsTheRequestHead) {
  Process verbd(folder_, VERBD_BINARY, {"--config", config(), "--log-level", "debug"});
  std::uint16_t port = verbd.port();
  ASSERT_NE(port, 0) << verbd.err();
  fetch(port, "GET", "/index.html", {}, {"X-Student: socket"});
  verbd.signal(SIGTERM);
  EXPECT_EQ(verbd.exit_code(), 0);
  EXPECT_NE(verbd.err().find("GET /index.html HTTP/1.1\nHost: 127.0.0.1\nX-Student: socket\n"),
            std::string::npos)
      << verbd.err();
}

TEST_F(CommandLine, OutOfFileDescriptorsItWaitsWithoutSpinningAndRecovers) {
#if defined(__SANITIZE_ADDRESS__)
  // UBSan's vptr check reads /proc/self/maps, which fails when verbd has no
  // descriptor left, and then reports a bad vptr that is not there.
  GTEST_SKIP() << "the sanitizers need free descriptors themselves; the normal build runs this";
#endif
  Process verbd(folder_, VERBD_BINARY, {"--config", config()}, {}, {.max_files = 48});
  std::uint16_t port = verbd.port();
  ASSERT_NE(port, 0) << verbd.err();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 60; ++i) {  // more than verbd can accept
    clients.push_back(std::make_unique<Client>(port));
    clients.back()->send("GET /index.html HTTP/1.1\r\n");  // a connection is accepted on its first bytes
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  double cpu_before = verbd.cpu_seconds();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_LT(verbd.cpu_seconds() - cpu_before, 0.5);  // a busy accept loop would use the whole second

  Client& waiting = *clients.back();
  clients.erase(clients.begin(), clients.end() - 1);            // frees descriptors in every worker process
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // for verbd to see them close
  waiting.send("Host: x\r\n\r\n");
  Reply reply = waiting.read_reply();
  EXPECT_EQ(reply.status, 200);
  std::string log = verbd.err();
  EXPECT_NE(log.find("accept failed: Too many open files; retrying every 100 ms"), std::string::npos);
  std::size_t warnings = 0;
  for (auto at = log.find("accept failed"); at != std::string::npos; at = log.find("accept failed", at + 1))
    ++warnings;
  EXPECT_GE(warnings, 1u);
  EXPECT_LE(warnings, 2u);  // once in each of the two worker processes, not every 100 ms
  clients.clear();
  verbd.signal(SIGTERM);
  EXPECT_EQ(verbd.exit_code(), 0);
}

}  // namespace
}  // namespace verbd::test
