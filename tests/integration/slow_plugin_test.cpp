// A plugin that blocks holds up its own request and nothing else: it runs on
// its worker's pool of threads while the event loop serves every other
// connection; a call past the time limit is answered 503; a full pool
// answers 503 with Retry-After at once; a worker whose threads are all
// stuck is recycled. One worker (event loop) throughout, so that every
// connection shares it with the slow call.
#include "../support/http_client.hpp"
#include "../support/plugin_folder.hpp"
#include "../support/process.hpp"
#include "../support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <initializer_list>
#include <iostream>
#include <memory>
#include <regex>
#include <thread>
#include <vector>

namespace verbd::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class SlowPlugins : public ::testing::Test {
 protected:
  void start(const std::string& server_keys, const std::string& limits_keys = "",
             const std::string& plugins_keys = "",
             std::initializer_list<std::string> test_plugins = {"slow", "inline_writer"}) {
    stock(folder_, test_plugins, {"get", "head", "put"});
    folder_.write("data/a", "twenty-six bytes of data.\n");
    folder_.write("verbd.toml", "[server]\nport = 0\nworkers = 1\n" + server_keys + "[limits]\n" +
                                    limits_keys + "[plugins]\ndirectory = \"plugins\"\n" + plugins_keys +
                                    "[store]\nroot = \"data\"\nfsync = false\n[log]\naccess = false\n");
    verbd_ = std::make_unique<Process>(
        folder_, VERBD_BINARY, std::vector<std::string>{"--config", (folder_ / "verbd.toml").string()});
    port_ = verbd_->port();
    ASSERT_NE(port_, 0) << verbd_->err();
  }

  bool log_shows(const std::string& pattern) const { return verbd_->err_shows(pattern); }

  static void send(Client& client, const std::string& method, const std::string& target) {
    client.send(method + " " + target + " HTTP/1.1\r\nHost: t\r\n\r\n");
  }

  TempFolder folder_;
  std::unique_ptr<Process> verbd_;
  std::uint16_t port_ = 0;
};

TEST_F(SlowPlugins, OtherConnectionsAreServedWhileOneCallSleeps) {
  start("");
  Client sleeper(port_);
  auto slept_from = Clock::now();
  send(sleeper, "SLOW", "/sleep/3000");
  std::this_thread::sleep_for(100ms);  // the call is on its way

  // 1,000 GETs from 4 other connections of the same worker, timed each.
  std::vector<double> latencies_ms;
  std::vector<std::unique_ptr<Client>> others;
  for (int i = 0; i < 4; ++i) others.push_back(std::make_unique<Client>(port_));
  for (int round = 0; round < 250; ++round) {
    for (auto& client : others) {
      auto sent = Clock::now();
      Reply reply = client->request("GET", "/a");
      latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
      ASSERT_EQ(reply.status, 200);
      ASSERT_EQ(reply.body, "twenty-six bytes of data.\n");
    }
  }
  auto gets_done = Clock::now();

  Reply slept = sleeper.read_reply();
  auto sleeper_done = Clock::now();
  EXPECT_EQ(slept.status, 200);
  EXPECT_EQ(slept.body, "slept 3000");
  EXPECT_LT(gets_done, sleeper_done);
  EXPECT_GE(sleeper_done - slept_from, 3000ms);
  std::sort(latencies_ms.begin(), latencies_ms.end());
  std::cout << "1000 GETs during a 3 s call on the same worker: p50 " << latencies_ms[500] << " ms, p99 "
            << latencies_ms[990] << " ms, max " << latencies_ms.back() << " ms, all done "
            << std::chrono::duration<double>(gets_done - slept_from).count() << " s after the call began\n";
}

TEST_F(SlowPlugins, PipelinedRequestsAreAnsweredInOrder) {
  start("");
  Client client(port_);
  client.send(
      "SLOW /sleep/300 HTTP/1.1\r\nHost: t\r\n\r\n"
      "GET /a HTTP/1.1\r\nHost: t\r\n\r\n"
      "SLOW /sleep/10 HTTP/1.1\r\nHost: t\r\n\r\n"
      "HEAD /a HTTP/1.1\r\nHost: t\r\n\r\n"
      "SLOW /pid HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(client.read_reply().body, "slept 300");
  EXPECT_EQ(client.read_reply().body, "twenty-six bytes of data.\n");
  EXPECT_EQ(client.read_reply().body, "slept 10");
  Reply head = client.read_reply(true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), "26");
  EXPECT_FALSE(client.read_reply().body.empty());
}

// The next request arrives while the worker serves others and nothing on
// this connection waits for its bytes: epoll reports them then, once, and
// the connection must still ask for them afterwards (net/socket.hpp).
TEST_F(SlowPlugins, ARequestThatArrivesWhileTheLastIsAnsweredElsewhereIsRead) {
  start("");
  Client client(port_);
  send(client, "SLOW", "/sleep/300");
  std::this_thread::sleep_for(100ms);
  send(client, "GET", "/a");
  EXPECT_EQ(client.read_reply().body, "slept 300");
  Reply got = client.read_reply();
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, "twenty-six bytes of data.\n");
}

TEST_F(SlowPlugins, ACallPastTheTimeLimitIsAnswered503AndTheServerGoesOn) {
  start("plugin_threads = 4\n", "handler_timeout_ms = 300\n");
  Client client(port_);
  auto sent = Clock::now();
  Reply hung = client.request("SLOW", "/hang");
  EXPECT_GE(Clock::now() - sent, 300ms);
  EXPECT_EQ(hung.status, 503);
  EXPECT_NE(hung.body.find("did not answer within 300 ms"), std::string::npos) << hung.body;
  EXPECT_TRUE(log_shows(R"(slow \(slow\.so\) on SLOW /hang: no answer within 300 ms: answered 503; its )"
                        R"(thread is written off and replaced)"))
      << verbd_->err();
  // The connection, the worker and the pool go on.
  EXPECT_EQ(client.request("GET", "/a").status, 200);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(client.request("SLOW", "/sleep/1").body, "slept 1");
}

TEST_F(SlowPlugins, AFullPoolAnswers503WithRetryAfterAtOnce) {
  start("plugin_threads = 1\n", "plugin_queue = 1\n");
  Client running(port_), queued(port_), refused(port_);
  send(running, "SLOW", "/sleep/3000");
  std::this_thread::sleep_for(500ms);  // on the one thread
  send(queued, "SLOW", "/sleep/1");
  std::this_thread::sleep_for(500ms);  // in the queue
  auto sent = Clock::now();
  Reply busy = refused.request("SLOW", "/sleep/1");
  EXPECT_LT(Clock::now() - sent, 1500ms);  // at once, not after the sleeper
  EXPECT_EQ(busy.status, 503);
  EXPECT_EQ(busy.header("Retry-After"), "1");
  EXPECT_NE(busy.body.find("every plugin thread of this worker is busy"), std::string::npos) << busy.body;
  EXPECT_EQ(refused.request("GET", "/a").status, 200);  // plugins that never block are not queued
  EXPECT_EQ(running.read_reply().body, "slept 3000");
  EXPECT_EQ(queued.read_reply().body, "slept 1");
  EXPECT_TRUE(log_shows("all 1 plugin threads busy and 1 calls queued: answering 503")) << verbd_->err();
}

TEST_F(SlowPlugins, AWorkerWhoseThreadsAreAllStuckIsRecycled) {
  start("plugin_threads = 1\n", "handler_timeout_ms = 200\n");
  Client client(port_);
  std::string before = client.request("SLOW", "/pid").body;
  EXPECT_EQ(client.request("SLOW", "/hang").status, 503);
  EXPECT_TRUE(log_shows("1 plugin threads of one worker are stuck past limits.handler_timeout_ms: recycling"))
      << verbd_->err();
  EXPECT_TRUE(log_shows(R"(worker 1 \(pid \d+\) exited to be recycled, its plugin threads stuck; )"
                        R"(restarted as pid \d+ in \d+ ms)"))
      << verbd_->err();
  std::string after = fetch(port_, "SLOW", "/pid").body;
  EXPECT_FALSE(after.empty());
  EXPECT_NE(after, before);
  EXPECT_EQ(fetch(port_, "GET", "/a").status, 200);
}

TEST_F(SlowPlugins, AnIsolatedPluginPastTheTimeLimitHasItsProcessKilled) {
  start("plugin_threads = 2\n", "handler_timeout_ms = 300\n", "[plugins.slow]\nisolation = \"process\"\n");
  Client client(port_);
  EXPECT_EQ(client.request("SLOW", "/hang").status, 503);
  EXPECT_TRUE(log_shows(R"(on SLOW /hang: no answer within 300 ms: answered 503; its process is killed)"))
      << verbd_->err();
  // The next call starts a new process; no thread was lost.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(client.request("SLOW", "/sleep/1").body, "slept 1");
  EXPECT_EQ(verbd_->err().find("recycling"), std::string::npos);
}

// Whether a process runs, and is not yet a zombie waiting to be reaped.
bool runs(const std::string& pid) {
  std::string stat = std::filesystem::exists("/proc/" + pid) ? slurp("/proc/" + pid + "/stat") : "";
  return !stat.empty() && stat.find(") Z") == std::string::npos;
}

// A new version of an isolated plugin lets the old one's process go. The
// worker waits for that process to end off its event loop: here the old
// plugin's teardown takes 800 ms, and the first request the new version
// answers is answered while it lasts.
TEST_F(SlowPlugins, AnIsolatedPluginsOldProcessEndsOffTheEventLoop) {
  start("", "", "[plugins.slow]\nisolation = \"process\"\nteardown_ms = 800\n");
  std::string old = fetch(port_, "SLOW", "/pid").body;
  ASSERT_TRUE(runs(old)) << old;
  std::filesystem::copy_file(std::filesystem::path(VERBD_TEST_PLUGIN_DIR) / "slow.so",
                             folder_ / "plugins/slow.so", std::filesystem::copy_options::overwrite_existing);
  std::string answered_by = old;
  for (auto deadline = Clock::now() + 5s; answered_by == old && Clock::now() < deadline;)
    answered_by = fetch(port_, "SLOW", "/pid").body;
  EXPECT_NE(answered_by, old) << "the new version never answered";
  EXPECT_TRUE(runs(old)) << "the old process had ended before the new version answered";
  for (auto deadline = Clock::now() + 5s; std::filesystem::exists("/proc/" + old) && Clock::now() < deadline;)
    std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(std::filesystem::exists("/proc/" + old)) << "never reaped";
  EXPECT_EQ(fetch(port_, "GET", "/a").status, 200);
}

// In a worker, the old version's teardown (its destructor, then its
// library's unloading) runs off the event loop: here it takes 800 ms, and
// a request that comes as the new version is published is answered while
// it lasts.
TEST_F(SlowPlugins, AnOldPluginsTeardownRunsOffTheEventLoop) {
  auto mark = folder_ / "torn-down";
  start("", "", "[plugins.slow]\nteardown_ms = 800\nteardown_mark = \"" + mark.string() + "\"\n");
  EXPECT_EQ(fetch(port_, "SLOW", "/sleep/1").status, 200);
  std::filesystem::copy_file(std::filesystem::path(VERBD_TEST_PLUGIN_DIR) / "slow.so",
                             folder_ / "plugins/slow.so", std::filesystem::copy_options::overwrite_existing);
  ASSERT_TRUE(log_shows("generation 2: ")) << verbd_->err();
  EXPECT_EQ(fetch(port_, "GET", "/a").status, 200);  // the loop lets generation 1 go
  EXPECT_FALSE(std::filesystem::exists(mark)) << "the request waited for the old version's teardown";
  for (auto deadline = Clock::now() + 5s; !std::filesystem::exists(mark) && Clock::now() < deadline;)
    std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(std::filesystem::exists(mark)) << "the old version was never torn down";
  EXPECT_EQ(fetch(port_, "SLOW", "/sleep/1").status, 200);
}

// An isolated plugin's process is started again by whichever pool thread
// has the next call for it. That thread may then take a slow call of
// another plugin, be written off at the time limit, and end when the call
// returns at last; the process it started lives on.
TEST_F(SlowPlugins, AnIsolatedPluginsProcessOutlivesThePoolThreadThatStartedIt) {
  start("plugin_threads = 2\n", "handler_timeout_ms = 300\n", "[plugins.crash]\nisolation = \"process\"\n",
        {"slow", "crash"});
  Client client(port_);
  EXPECT_EQ(client.request("CRASH", "/null").status, 502);
  // The pool wakes a second thread only for a call that waits: one thread
  // takes these three calls, starting the process again on the second.
  std::string started = client.request("CRASH", "/pid").body;
  EXPECT_EQ(client.request("SLOW", "/sleep/600").status, 503);  // that thread written off
  std::this_thread::sleep_for(600ms);                           // its call returned: it has ended
  EXPECT_TRUE(runs(started)) << verbd_->err();
  EXPECT_EQ(client.request("CRASH", "/pid").body, started);
}

// Loading and making the plugin is plugin code too: an isolated plugin's
// process that has not described the plugin within the time limit is
// killed, and the plugin refused, saying so; the worker serves the rest.
TEST_F(SlowPlugins, AnIsolatedPluginThatTakesTooLongToStartIsRefused) {
  start("", "handler_timeout_ms = 300\n", "[plugins.slow]\nisolation = \"process\"\nstartup_ms = 60000\n");
  EXPECT_TRUE(log_shows(R"(slow\.so: its process did not describe the plugin within 300 ms )"
                        R"(\(limits\.handler_timeout_ms\): \(pid [0-9]+\) killed by SIGKILL)"))
      << verbd_->err();
  EXPECT_EQ(fetch(port_, "GET", "/a").status, 200);
  EXPECT_EQ(fetch(port_, "SLOW", "/pid").status, 405);
}

// In a worker, a plugin whose factory hangs keeps that worker from ever
// serving: past the time limit the supervisor kills it and charges the
// plugin, which ends quarantined and not loaded.
TEST_F(SlowPlugins, APluginThatHangsAsItIsLoadedIsStoppedThenQuarantined) {
  start("", "handler_timeout_ms = 200\n", "[plugins.slow]\nstartup_ms = 60000\n");
  EXPECT_TRUE(log_shows(R"(worker 1 \(pid [0-9]+\) has been loading plugin slow\.so for more than 200 ms )"
                        R"(\(limits\.handler_timeout_ms\): killing it)"))
      << verbd_->err();
  EXPECT_TRUE(log_shows(
      R"(killed by SIGKILL in plugin slow\.so \(slow 1\.0\.0, generation [0-9]+\) as it was being loaded)"));
  EXPECT_TRUE(log_shows(
      R"(plugin slow\.so \(slow 1\.0\.0\) quarantined: 3 crashes within 60 s, the last as it was being loaded)"));
  EXPECT_EQ(fetch(port_, "GET", "/a").status, 200);
  EXPECT_EQ(fetch(port_, "SLOW", "/pid").status, 405);
}

TEST_F(SlowPlugins, APluginThatPromisesNeverToBlockMayNotWrite) {
  start("");
  Reply write = fetch(port_, "INLINE", "/");
  EXPECT_EQ(write.status, 200);
  EXPECT_EQ(write.body, "refused");
  EXPECT_EQ(fetch(port_, "INLINE", "/remove").body, "refused");
  EXPECT_EQ(fetch(port_, "GET", "/written").status, 404);
  EXPECT_TRUE(log_shows(R"(plugin inline.*store_write refused \(VERBD_WOULD_BLOCK\))")) << verbd_->err();
}

}  // namespace
}  // namespace verbd::test
