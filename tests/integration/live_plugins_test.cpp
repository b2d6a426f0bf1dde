// Plugins change under load: GET's file is copied over 20 times, another
// method's plugin comes and goes, SIGHUP arrives — and no request fails.
#include "../support/http_client.hpp"
#include "../support/process.hpp"
#include "../support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace verbd::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

TEST(LivePlugins, SwapsUnderLoadWithoutAFailedRequest) {
  TempFolder folder;
  fs::create_directories(folder / "plugins");
  for (const char* method : {"get", "head", "put", "post", "delete"})
    fs::copy_file(fs::path(VERBD_PLUGIN_DIR) / (std::string(method) + ".so"),
                  folder / ("plugins/" + std::string(method) + ".so"));
  folder.write("data/index.html", "HTTP GET Method (Success)\n");
  folder.write("verbd.toml",
               "[server]\nport = 0\nworkers = 2\n[plugins]\ndirectory = \"plugins\"\n"
               "[store]\nroot = \"data\"\nfsync = false\n[log]\naccess = false\n");
  Process verbd(folder, VERBD_BINARY, {"--config", (folder / "verbd.toml").string()});
  std::uint16_t port = verbd.port();
  ASSERT_NE(port, 0) << verbd.err();

  std::atomic<bool> running{true};
  std::atomic<long> answered{0}, failed{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i)
    clients.emplace_back([&] {
      while (running) {
        try {
          Client client(port);
          for (int n = 0; n < 200 && running; ++n) {
            Reply reply = client.request("GET", "/index.html");
            (reply.status == 200 && reply.body == "HTTP GET Method (Success)\n" ? answered : failed)++;
          }
        } catch (const std::exception&) {
          ++failed;
        }
      }
    });

  for (int round = 0; round < 20; ++round) {
    // A plain cp: truncate, then write, in place.
    fs::copy_file(fs::path(VERBD_PLUGIN_DIR) / "get.so", folder / "plugins/get.so",
                  fs::copy_options::overwrite_existing);
    std::this_thread::sleep_for(50ms);
    if (round == 5) fs::copy_file(fs::path(VERBD_TEST_PLUGIN_DIR) / "good.so", folder / "plugins/echo.so");
    if (round == 10) verbd.signal(SIGHUP);
    if (round == 15) fs::remove(folder / "plugins/echo.so");
  }
  std::this_thread::sleep_for(300ms);
  running = false;
  for (auto& client : clients) client.join();

  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(answered.load(), 1000);
  EXPECT_EQ(fetch(port, "ECHO", "/").status, 405);  // removed again
  std::string log = verbd.err();
  std::size_t replaced = 0;
  for (auto at = log.find("~get.so"); at != std::string::npos; at = log.find("~get.so", at + 1)) ++replaced;
  EXPECT_GE(replaced, 5u) << log;  // reloaded as it changed, not once at the end
  EXPECT_NE(log.find(" +echo.so"), std::string::npos) << log;
  EXPECT_NE(log.find(" -echo.so"), std::string::npos) << log;
  EXPECT_NE(log.find("SIGHUP: reloading plugins"), std::string::npos) << log;
  verbd.signal(SIGTERM);
  EXPECT_EQ(verbd.exit_code(), 0);
  std::cout << "[ figures  ] " << answered << " requests answered, " << failed
            << " failed, during 20 replacements "
            << "of get.so, one plugin added and removed, one SIGHUP\n";
}

}  // namespace
}  // namespace verbd::test
