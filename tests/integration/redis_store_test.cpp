// The redis store through verbd: several hosts on one Redis see each
// other's writes at once, an outage of Redis is 503 and ends by itself
// (for plugins in processes of their own too), a host killed with SIGKILL
// loses no acknowledged write, and a write waits for the replicas the
// config asks for. Each test starts its own redis-server on a free
// loopback port.
#include "../support/http_client.hpp"
#include "../support/process.hpp"
#include "../support/redis_server.hpp"
#include "../support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <chrono>
#include <set>
#include <sstream>
#include <thread>

namespace verbd::test {
namespace {

using namespace std::chrono_literals;

class RedisStoreTest : public ::testing::Test {
 protected:
  // A verbd with the redis store on `redis`; `more` goes into [store],
  // `tables` after the others.
  std::unique_ptr<Process> start_host(const RedisServer& redis, const std::string& more = {},
                                      const std::string& tables = {}) {
    std::string name = "verbd-" + std::to_string(++hosts_) + ".toml";
    folder_.write(
        name, "[server]\nport = 0\nworkers = 2\n[plugins]\ndirectory = \"" + std::string(VERBD_PLUGIN_DIR) +
                  "\"\nwatch = false\n[store]\nbackend = \"redis\"\n" + "url = \"redis://127.0.0.1:" +
                  std::to_string(redis.port()) + "/0\"\n" + more + "[log]\naccess = false\n" + tables);
    auto host = std::make_unique<Process>(folder_, VERBD_BINARY,
                                          std::vector<std::string>{"--config", (folder_ / name).string()});
    EXPECT_NE(host->port(), 0) << host->err();
    return host;
  }

  TempFolder folder_;
  int hosts_ = 0;
};

TEST_F(RedisStoreTest, AWriteThroughOneHostIsReadAtOnceThroughAnother) {
  RedisServer redis;
  auto first = start_host(redis), second = start_host(redis);
  std::vector<std::thread> writers;
  std::atomic<int> stale{0}, failed{0};
  for (int w = 0; w < 4; ++w)
    writers.emplace_back([&, w] {
      Client through_first(first->port()), through_second(second->port());
      for (int n = 0; n < 100; ++n) {
        bool forward = (n + w) % 2 == 0;
        Client& writer = forward ? through_first : through_second;
        Client& reader = forward ? through_second : through_first;
        std::string path = "/w" + std::to_string(w) + "/r", body = "version " + std::to_string(n);
        int status = writer.request("PUT", path, body).status;
        if (status != 201 && status != 204) ++failed;
        if (reader.request("GET", path).body != body) ++stale;
      }
    });
  for (auto& writer : writers) writer.join();
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(stale, 0) << "a read after an acknowledged write through another host saw an older version";
}

// With Redis, a GET waits on the store: its plugin runs on a pool thread,
// and the part a Range asks for is cut there.
TEST_F(RedisStoreTest, RangesAreServedFromAResourceReadOnAPoolThread) {
  RedisServer redis;
  auto host = start_host(redis);
  ASSERT_EQ(fetch(host->port(), "PUT", "/digits", "0123456789").status, 201);
  Reply part = fetch(host->port(), "GET", "/digits", {}, {"Range: bytes=-4"});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, "6789");
  EXPECT_EQ(part.header("Content-Range"), "bytes 6-9/10");
  EXPECT_EQ(fetch(host->port(), "GET", "/digits", {}, {"Range: bytes=10-"}).status, 416);
  std::string hundreds(300, 'x');
  hundreds[0] = 'a', hundreds[299] = 'z';
  ASSERT_EQ(fetch(host->port(), "PUT", "/hundreds", hundreds).status, 201);
  Reply parts = fetch(host->port(), "GET", "/hundreds", {}, {"Range: bytes=0-0,-1"});
  EXPECT_EQ(parts.status, 206);
  EXPECT_TRUE(parts.header("Content-Type").starts_with("multipart/byteranges; boundary="));
  EXPECT_NE(parts.body.find("Content-Range: bytes 0-0/300\r\n\r\na\r\n"), std::string::npos) << parts.body;
  EXPECT_NE(parts.body.find("Content-Range: bytes 299-299/300\r\n\r\nz\r\n"), std::string::npos)
      << parts.body;
}

TEST_F(RedisStoreTest, AppendsThroughSeveralHostsAreNeitherLostNorInterleaved) {
  RedisServer redis;
  auto first = start_host(redis), second = start_host(redis);
  std::vector<std::thread> writers;
  for (int w = 0; w < 6; ++w)
    writers.emplace_back([&, w] {
      Client client(w % 2 == 0 ? first->port() : second->port());
      for (int n = 0; n < 50; ++n) {
        std::string line =
            std::to_string(w) + ":" + std::to_string(n) + ":" + std::string(200, char('a' + w));
        EXPECT_LT(client.request("POST", "/log", line + "\n").status, 300);
      }
    });
  for (auto& writer : writers) writer.join();
  std::istringstream lines(fetch(second->port(), "GET", "/log").body);
  std::set<std::string> seen;
  for (std::string line; std::getline(lines, line);) {
    auto colon = line.rfind(':');
    ASSERT_NE(colon, std::string::npos) << line;
    char writer = line[0];
    EXPECT_EQ(line.substr(colon + 1), std::string(200, char('a' + (writer - '0'))))
        << "interleaved: " << line;
    seen.insert(line.substr(0, colon));
  }
  EXPECT_EQ(seen.size(), 300u) << "an acknowledged append was lost";
}

TEST_F(RedisStoreTest, AnOutageIsAnswered503AndEndsWithoutARestart) {
  RedisServer redis;
  auto host = start_host(redis, "timeout_ms = 500\n");
  ASSERT_EQ(fetch(host->port(), "PUT", "/before", "x").status, 201);
  redis.stop();
  for (const char* method : {"GET", "PUT", "DELETE"}) {
    Reply reply = fetch(host->port(), method, "/before", std::string_view(method) == "PUT" ? "y" : "");
    EXPECT_EQ(reply.status, 503) << method;
    EXPECT_EQ(reply.header("Retry-After"), "1") << method;
    EXPECT_NE(reply.body.find("the store could not be reached"), std::string::npos) << reply.body;
  }
  EXPECT_TRUE(host->err_shows(R"(\[store\] error: redis 127\.0\.0\.1:\d+/0: .*answered 503)")) << host->err();
  redis.start();  // empty: this one keeps nothing on disk
  int status = 0;
  for (int i = 0; i < 50 && status != 201; ++i) {
    status = fetch(host->port(), "PUT", "/after", "back").status;
    if (status != 201) std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(status, 201);
  // Each worker tells of its own outage and its end: new connections reach
  // both, whichever had the outage.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(fetch(host->port(), "GET", "/after").body, "back");
  EXPECT_TRUE(host->err_shows(R"(\[store\] info: redis 127\.0\.0\.1:\d+/0: answering again)")) << host->err();
}

// A plugin in a process of its own reaches Redis through a store of its
// own: an outage is the same 503 for its requests, and ends the same way.
TEST_F(RedisStoreTest, AnIsolatedPluginMeetsAnOutageWith503Too) {
  RedisServer redis;
  auto host = start_host(redis, "timeout_ms = 500\n",
                         "[plugins.get]\nisolation = \"process\"\n[plugins.put]\nisolation = \"process\"\n");
  ASSERT_EQ(fetch(host->port(), "PUT", "/before", "x").status, 201);
  EXPECT_EQ(fetch(host->port(), "GET", "/before").body, "x");
  EXPECT_GE(plugin_processes_below(host->pid()).size(), 2u) << "GET and PUT run in processes of their own";
  redis.stop();
  for (const char* method : {"GET", "PUT"}) {
    Reply reply = fetch(host->port(), method, "/before", std::string_view(method) == "PUT" ? "y" : "");
    EXPECT_EQ(reply.status, 503) << method;
    EXPECT_EQ(reply.header("Retry-After"), "1") << method;
    EXPECT_NE(reply.body.find("the store could not be reached"), std::string::npos) << reply.body;
  }
  redis.start();
  int status = 0;
  for (int i = 0; i < 50 && status != 201; ++i) {
    status = fetch(host->port(), "PUT", "/after", "back").status;
    if (status != 201) std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(status, 201);
  EXPECT_EQ(fetch(host->port(), "GET", "/after").body, "back");
}

TEST_F(RedisStoreTest, AuthenticatesWithThePasswordGivenAndSaysWhenItIsWrong) {
  RedisServer redis({"--requirepass", "s3cret"});
  auto right = start_host(redis, "password = \"s3cret\"\n");
  EXPECT_EQ(fetch(right->port(), "PUT", "/p", "x").status, 201);
  EXPECT_EQ(fetch(right->port(), "GET", "/p").body, "x");
  auto wrong = start_host(redis, "password = \"guess\"\n");
  EXPECT_EQ(fetch(wrong->port(), "GET", "/p").status, 503);
  EXPECT_TRUE(wrong->err_shows(R"(\[store\] error: redis .*AUTH: WRONGPASS)")) << wrong->err();
}

TEST_F(RedisStoreTest, ARedisOutOfMemoryIs507AndKeepsWhatItHad) {
  RedisServer redis({"--maxmemory", "16mb", "--maxmemory-policy", "noeviction"});
  auto host = start_host(redis);
  std::string big(6 * 1024 * 1024, 'a');
  ASSERT_EQ(fetch(host->port(), "PUT", "/first", big).status, 201);
  int status = 0;
  for (int i = 0; i < 5 && status != 507; ++i)
    status = fetch(host->port(), "PUT", "/more-" + std::to_string(i), big).status;
  EXPECT_EQ(status, 507) << "Redis over its maxmemory refuses writes";
  EXPECT_EQ(fetch(host->port(), "GET", "/first").body.size(), big.size());
}

TEST_F(RedisStoreTest, AHostKilledUnderLoadLosesNoAcknowledgedWrite) {
  RedisServer redis;
  auto doomed = start_host(redis), survivor = start_host(redis);
  std::atomic<bool> going{true};
  std::vector<std::vector<std::string>> acknowledged(4);
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w)
    writers.emplace_back([&, w] {
      try {
        Client client(doomed->port());
        for (int n = 0; going; ++n) {
          std::string path = "/k/" + std::to_string(w) + "/" + std::to_string(n);
          if (client.request("PUT", path, path).status != 201) return;
          acknowledged[w].push_back(path);
        }
      } catch (const std::exception&) {  // the host is gone
      }
    });
  std::this_thread::sleep_for(500ms);
  doomed->signal(SIGKILL);
  going = false;
  for (auto& writer : writers) writer.join();
  std::size_t checked = 0;
  Client client(survivor->port());
  for (const auto& paths : acknowledged)
    for (const auto& path : paths) {
      EXPECT_EQ(client.request("GET", path).body, path);
      ++checked;
    }
  EXPECT_GT(checked, 0u);
}

TEST_F(RedisStoreTest, AWriteWaitsForTheReplicasAsked) {
  RedisServer lone;
  auto without_replica = start_host(lone, "wait_replicas = 1\nwait_timeout_ms = 200\n");
  Reply refused = fetch(without_replica->port(), "PUT", "/r", "x");
  EXPECT_EQ(refused.status, 503) << "no replica confirmed it";
  EXPECT_TRUE(without_replica->err_shows(R"(WAIT: 0 of 1 replicas confirmed the write within 200 ms)"))
      << without_replica->err();

  RedisServer primary;
  RedisServer replica({"--replicaof", "127.0.0.1", std::to_string(primary.port())});
  auto with_replica = start_host(primary, "wait_replicas = 1\nwait_timeout_ms = 5000\n");
  int status = 0;
  for (int i = 0; i < 50 && status != 201; ++i) {  // until the replica has synchronised
    status = fetch(with_replica->port(), "PUT", "/first-" + std::to_string(i), "x").status;
    if (status != 201) std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(status, 201);
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(fetch(with_replica->port(), "PUT", "/r", "y").status, i == 0 ? 201 : 204)
        << "the replica confirms each write";
}

}  // namespace
}  // namespace verbd::test
