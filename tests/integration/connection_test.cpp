// How the host handles connections, framing and refusals, whatever the plugins.
#include "../support/http_client.hpp"
#include "../support/temp_folder.hpp"
#include "../support/test_server.hpp"
#include "net/server.hpp"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace verbd::test {
namespace {

namespace fs = std::filesystem;

class ConnectionTest : public ::testing::Test {
 protected:
  ConnectionTest() { folder_.write("data/index.html", "HTTP GET Method (Success)\n"); }
  config::Config config() { return test_config("files", folder_ / "data"); }
  TempFolder folder_;
};

TEST_F(ConnectionTest, KeepsAConnectionAliveAcrossRequests) {
  TestServer server(config());
  Client client(server.port());
  for (int i = 0; i < 20; ++i) EXPECT_EQ(client.request("GET", "/index.html").status, 200);
  EXPECT_FALSE(client.closed_by_server(100));
}

// Between requests a connection waits for its socket without asking epoll
// again (net/socket.hpp): the next request is read whenever it comes,
// whole or in pieces, and after more than one read's worth at once.
TEST_F(ConnectionTest, ReadsTheNextRequestWheneverAndHoweverItComes) {
  TestServer server(config());
  Client client(server.port());
  const std::string request = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(client.request("GET", "/index.html").status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    client.send(request.substr(0, 10));
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    client.send(request.substr(10));
    EXPECT_EQ(client.read_reply().status, 200);
  }
  std::string burst;  // more than the worker's 64 KiB buffer takes in one read
  while (burst.size() <= 64 * 1024) burst += request;
  client.send(burst);
  for (std::size_t i = 0; i < burst.size() / request.size(); ++i) ASSERT_EQ(client.read_reply().status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(client.request("GET", "/index.html").status, 200);
}

TEST_F(ConnectionTest, ServesOneRequestPerConnectionToo) {
  TestServer server(config());
  for (int i = 0; i < 50; ++i) {
    Client client(server.port());
    client.send("GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    Reply reply = client.read_reply();
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.header("Connection"), "close");
    EXPECT_TRUE(client.closed_by_server());
  }
}

TEST_F(ConnectionTest, Http10ClosesUnlessAskedToKeepAlive) {
  TestServer server(config());
  Client closing(server.port());
  closing.send("GET /index.html HTTP/1.0\r\n\r\n");
  EXPECT_EQ(closing.read_reply().body, "HTTP GET Method (Success)\n");
  EXPECT_TRUE(closing.closed_by_server());

  Client staying(server.port());
  staying.send("GET /index.html HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(staying.read_reply().header("Connection"), "keep-alive");
  staying.send("GET /index.html HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(staying.read_reply().status, 200);
}

TEST_F(ConnectionTest, AnswersPipelinedRequestsInOrder) {
  TestServer server(config());
  Client client(server.port());
  std::string burst;
  for (int i = 0; i < 100; ++i) {
    std::string body = std::to_string(i);
    burst += "PUT /p/" + std::to_string(i) +
             " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    burst += "GET /p/" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
  }
  client.send(burst);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(client.read_reply().status, 201);
    EXPECT_EQ(client.read_reply().body, std::to_string(i));
  }
}

// Responses are written once 64 KiB of them are queued; the requests still
// buffered behind those are answered next, without waiting for more input.
TEST_F(ConnectionTest, AnswersPipelinedRequestsBeyondWhatTheOutputHolds) {
  folder_.write("data/forty.txt", std::string(40 * 1024, 'x'));
  TestServer server(config());
  Client client(server.port());
  std::string burst;
  for (int i = 0; i < 6; ++i) burst += "GET /forty.txt HTTP/1.1\r\nHost: x\r\n\r\n";
  client.send(burst);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(client.read_reply().body.size(), 40u * 1024) << "response " << i;
}

// Bytes that differ from position to position, so that a misplaced or lost
// stretch shows.
std::string numbered_bytes(std::size_t size) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>('a' + (i * 7 + i / 4093) % 26);
  return bytes;
}

// Resources above 64 KiB go from their file to the socket with sendfile;
// 16 MiB is more than the loopback's socket buffers hold, so the server
// must wait for room part way.
TEST_F(ConnectionTest, SendsLargeResourcesWholeAndInOrder) {
  std::string large = numbered_bytes(16 * 1024 * 1024);
  std::string medium = numbered_bytes(100 * 1000);
  folder_.write("data/large.bin", large);
  folder_.write("data/medium.bin", medium);
  TestServer server(config());
  Client client(server.port());
  client.send(
      "GET /large.bin HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"
      "HEAD /large.bin HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /medium.bin HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /large.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(client.read_reply().body == large);
  EXPECT_EQ(client.read_reply().body, "HTTP GET Method (Success)\n");
  Reply head = client.read_reply(true);
  EXPECT_EQ(head.header("Content-Length"), std::to_string(large.size()));
  EXPECT_TRUE(client.read_reply().body == medium);
  EXPECT_TRUE(client.read_reply().body == large);
  EXPECT_TRUE(client.closed_by_server());
}

// A file cut short in place while it is being sent cannot honour the
// Content-Length already sent: the connection ends early, nothing else breaks.
TEST_F(ConnectionTest, AFileCutShortWhileSentEndsTheConnection) {
  folder_.write("data/large.bin", numbered_bytes(32 * 1024 * 1024));
  TestServer server(config());
  Client client(server.port());
  client.send("GET /large.bin HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the socket buffers fill up
  std::filesystem::resize_file(folder_ / "data/large.bin", 1024 * 1024);
  EXPECT_THROW(client.read_reply(), std::runtime_error);
  EXPECT_EQ(fetch(server.port(), "GET", "/index.html").status, 200);
}

// The test server runs in this process: its end of a connection is the
// socket here whose peer is the client's address.
int server_end_of(int client) {
  sockaddr_in mine{}, peer{};
  socklen_t size = sizeof mine;
  ::getsockname(client, reinterpret_cast<sockaddr*>(&mine), &size);
  for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
    int fd = std::stoi(entry.path().filename().string());
    struct stat st {};
    size = sizeof peer;
    if (fd == client || ::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode) ||
        ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &size) != 0)
      continue;
    if (peer.sin_family == AF_INET && peer.sin_port == mine.sin_port &&
        peer.sin_addr.s_addr == mine.sin_addr.s_addr)
      return fd;
  }
  return -1;
}

bool has_no_delay(int fd) {
  int on = 0;
  socklen_t size = sizeof on;
  return ::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &size) == 0 && on != 0;
}

// Nagle's algorithm would hold a second small response back until the
// client acknowledges the first (up to 40 ms with delayed ACKs): it is off
// before a connection's second write, and left alone on one that writes once.
TEST_F(ConnectionTest, TurnsNagleOffBeforeASecondWrite) {
  TestServer server(config());
  Client client(server.port());
  ASSERT_EQ(client.request("GET", "/index.html").status, 200);
  int server_end = server_end_of(client.socket());
  ASSERT_GE(server_end, 0);
  EXPECT_FALSE(has_no_delay(server_end));
  ASSERT_EQ(client.request("GET", "/index.html").status, 200);
  EXPECT_TRUE(has_no_delay(server_end));
}

int send_buffer_of(int fd) {
  int bytes = 0;
  socklen_t size = sizeof bytes;
  return ::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, &size) == 0 ? bytes : -1;
}

// On loopback a connection sends through a fixed buffer (net/server.hpp),
// not one the kernel grows: what the kernel reports for a socket that asked
// for the same (it doubles what is asked).
TEST_F(ConnectionTest, SendsThroughAFixedBufferOnLoopback) {
  TestServer server(config());
  Client client(server.port());
  ASSERT_EQ(client.request("GET", "/index.html").status, 200);  // accepted (TCP_DEFER_ACCEPT)
  int server_end = server_end_of(client.socket());
  ASSERT_GE(server_end, 0);
  int asked = ::socket(AF_INET, SOCK_STREAM, 0);
  ::setsockopt(asked, SOL_SOCKET, SO_SNDBUF, &net::loopback_send_buffer_bytes,
               sizeof net::loopback_send_buffer_bytes);
  EXPECT_EQ(send_buffer_of(server_end), send_buffer_of(asked));
  ::close(asked);
}

TEST_F(ConnectionTest, DecodesChunkedRequestBodies) {
  TestServer server(config());
  Client client(server.port());
  client.send("PUT /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  client.send("4\r\nWiki\r\n");
  client.send("5\r\npedia\r\n0\r\n\r\n");
  EXPECT_EQ(client.read_reply().status, 201);
  EXPECT_EQ(client.request("GET", "/chunked").body, "Wikipedia");
}

TEST_F(ConnectionTest, AnswersExpectContinueBeforeTheBody) {
  TestServer server(config());
  Client client(server.port());
  client.send("PUT /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  Reply interim = client.read_reply();
  EXPECT_EQ(interim.status, 100);
  client.send("hello");
  EXPECT_EQ(client.read_reply().status, 201);
  EXPECT_EQ(client.request("GET", "/e").body, "hello");
}

TEST_F(ConnectionTest, RefusesAtOnceWhatExpectContinueWouldWasteABodyOn) {
  auto settings = config();
  settings.limits.max_body_bytes = 100;
  TestServer server(settings);
  Client unserved(server.port());
  unserved.send("PATCH /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  Reply refused = unserved.read_reply();
  EXPECT_EQ(refused.status, 405);
  EXPECT_EQ(refused.header("Connection"), "close");

  Client too_large(server.port());
  too_large.send("PUT /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 500\r\n\r\n");
  EXPECT_EQ(too_large.read_reply().status, 413);
  EXPECT_TRUE(too_large.closed_by_server());
}

TEST_F(ConnectionTest, RefusesMalformedRequestsAndCloses) {
  TestServer server(config());
  struct Case {
    std::string bytes;
    int status;
  };
  for (const auto& [bytes, status] : std::vector<Case>{
           {"GARBAGE\r\n\r\n", 400},
           {"GET / HTTP/1.1\r\n\r\n", 400},
           {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
           {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
           {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
           {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
           {"GET / HTTP/3.0\r\nHost: a\r\n\r\n", 505},
           {"GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", 414},
           {"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(17000, 'b') + "\r\n\r\n", 431},
           {"PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999\r\n\r\n", 413},
       }) {
    Client client(server.port());
    client.send(bytes);
    Reply reply = client.read_reply();
    EXPECT_EQ(reply.status, status) << bytes.substr(0, 60);
    EXPECT_EQ(reply.header("Connection"), "close") << bytes.substr(0, 60);
    EXPECT_EQ(reply.header("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_TRUE(client.closed_by_server()) << bytes.substr(0, 60);
  }
}

TEST_F(ConnectionTest, ACleanRefusalKeepsTheConnection) {
  TestServer server(config());
  Client client(server.port());
  EXPECT_EQ(client.request("GET", "/../x").status, 400);
  EXPECT_EQ(client.request("PATCH", "/x").status, 405);
  EXPECT_EQ(client.request("GET", "/index.html").status, 200);
}

TEST_F(ConnectionTest, AnIncompleteHeadTimesOutWith408) {
  auto settings = config();
  settings.limits.header_timeout = std::chrono::milliseconds(300);
  TestServer server(settings);
  Client slow(server.port());
  slow.send("GET /index.html HTTP/1.1\r\nHost: x\r\n");
  Reply reply = slow.read_reply();
  EXPECT_EQ(reply.status, 408);
  EXPECT_TRUE(slow.closed_by_server());
}

// Through the wire: no request reaches past the data folder, whether by
// "..", encoded or not, or by a symlink inside it that points outside.
TEST_F(ConnectionTest, NothingOutsideTheDataFolderCanBeReadWrittenOrRemoved) {
  folder_.write("outside/secret", "top secret");
  fs::create_directory_symlink(folder_ / "outside", folder_ / "data/escape");
  fs::create_symlink(folder_ / "outside/secret", folder_ / "data/link");
  TestServer server(config());
  Client client(server.port());
  for (std::string target : {"/../outside/secret", "/%2e%2e/outside/secret", "/a/..%2f..%2foutside/secret",
                             "/escape/..%2f..%2foutside/secret"}) {
    EXPECT_EQ(client.request("GET", target).status, 400) << target;
    EXPECT_EQ(client.request("PUT", target, "overwritten").status, 400) << target;
    EXPECT_EQ(client.request("DELETE", target).status, 400) << target;
  }
  for (std::string target : {"/escape/secret", "/link"}) {
    EXPECT_EQ(client.request("GET", target).status, 403) << target;
    EXPECT_EQ(client.request("HEAD", target).status, 403) << target;
    EXPECT_EQ(client.request("PUT", target, "overwritten").status, 403) << target;
    EXPECT_EQ(client.request("POST", target, "appended").status, 403) << target;
    EXPECT_EQ(client.request("DELETE", target).status, 403) << target;
  }
  EXPECT_EQ(client.request("PUT", "/escape/new", "planted").status, 403);
  EXPECT_EQ(client.request("POST", "/escape/", "planted").status, 403);
  EXPECT_EQ(folder_.read("outside/secret"), "top secret");
  EXPECT_EQ(std::distance(fs::directory_iterator(folder_ / "outside"), fs::directory_iterator()), 1);
}

TEST_F(ConnectionTest, ABodyThatStallsTimesOutWith408) {
  auto settings = config();
  settings.limits.idle_timeout = std::chrono::milliseconds(300);
  TestServer server(settings);
  Client stalled(server.port());
  stalled.send("PUT /stalled HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
  Reply reply = stalled.read_reply();
  EXPECT_EQ(reply.status, 408);
  EXPECT_EQ(reply.header("Connection"), "close");
  EXPECT_TRUE(stalled.closed_by_server());
  EXPECT_EQ(fetch(server.port(), "GET", "/stalled").status, 404);
}

TEST_F(ConnectionTest, AnIdleConnectionIsClosedQuietly) {
  auto settings = config();
  settings.limits.idle_timeout = std::chrono::milliseconds(200);
  TestServer server(settings);
  Client idle(server.port());
  EXPECT_EQ(idle.request("GET", "/index.html").status, 200);
  EXPECT_TRUE(idle.closed_by_server(3000));
}

TEST_F(ConnectionTest, AConnectionThatNeverSpeaksIsClosedToo) {
  // Accepted once a second has passed without its first bytes, then timed
  // out as any idle connection.
  auto settings = config();
  settings.limits.idle_timeout = std::chrono::milliseconds(200);
  TestServer server(settings);
  Client silent(server.port());
  EXPECT_TRUE(silent.closed_by_server(5000));
}

TEST_F(ConnectionTest, WithoutThePutPluginPutIs405AndAllowOmitsIt) {
  fs::create_directories(folder_ / "plugins");
  for (const char* method : {"get", "head", "post", "delete"})
    fs::copy_file(fs::path(VERBD_PLUGIN_DIR) / (std::string(method) + ".so"),
                  folder_ / ("plugins/" + std::string(method) + ".so"));
  TestServer server(test_config("files", folder_ / "data", folder_ / "plugins"));
  Reply reply = fetch(server.port(), "PUT", "/x", "data");
  EXPECT_EQ(reply.status, 405);
  EXPECT_EQ(reply.header("Allow"), "DELETE, GET, HEAD, POST");
  EXPECT_EQ(fetch(server.port(), "POST", "/x", "data").status, 201);
}

TEST_F(ConnectionTest, FilesStoreDataSurvivesARestart) {
  {
    TestServer server(config());
    ASSERT_EQ(fetch(server.port(), "PUT", "/kept/note", "still here", {"Content-Type: text/x-note"}).status,
              201);
  }
  TestServer again(config());
  Reply reply = fetch(again.port(), "GET", "/kept/note");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "still here");
  EXPECT_EQ(reply.header("Content-Type"), "text/x-note");
}

TEST_F(ConnectionTest, ServesManyClientsAtOnceOnTwoWorkers) {
  auto settings = config();
  settings.server.workers = 2;
  TestServer server(settings);
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t)
    clients.emplace_back([&, t] {
      Client client(server.port());
      for (int i = 0; i < 50; ++i) {
        std::string path = "/t" + std::to_string(t) + "/" + std::to_string(i);
        if (client.request("PUT", path, path).status == 201 && client.request("GET", path).body == path) ++ok;
      }
    });
  for (auto& thread : clients) thread.join();
  EXPECT_EQ(ok.load(), 400);
}

// The threads of this process whose scheduling policy is SCHED_BATCH, once
// `expected` of them are (the workers set it as they start), or after 2 s.
int threads_under_batch_scheduling(int expected) {
  int count = 0;
  for (int attempt = 0; attempt < 100; ++attempt) {
    count = 0;
    for (const auto& task : fs::directory_iterator("/proc/self/task"))
      if (::sched_getscheduler(std::stoi(task.path().filename().string())) == SCHED_BATCH) ++count;
    if (count == expected) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return count;
}

TEST_F(ConnectionTest, WorkersRunUnderBatchSchedulingUnlessToldNot) {
  auto settings = config();
  settings.server.workers = 2;
  settings.server.batch_scheduling = false;
  {
    TestServer server(settings);
    EXPECT_EQ(fetch(server.port(), "GET", "/index.html").status, 200);
    EXPECT_EQ(threads_under_batch_scheduling(0), 0);
  }
  settings.server.batch_scheduling = true;
  TestServer server(settings);
  EXPECT_EQ(threads_under_batch_scheduling(2), 2);
  EXPECT_EQ(fetch(server.port(), "GET", "/index.html").status, 200);
}

// Connections that only trickle their head in must not hold up anyone else
// (each is a pending read, not a thread), and each gets its 408 once its
// time is up.
// Here 1,000 of them send a byte a second each, spread evenly, while a fast
// client makes a request every 50 ms on a new connection.
TEST_F(ConnectionTest, AThousandSlowClientsDoNotHoldUpAFastOne) {
  constexpr int slow_clients = 1000;
  rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  if (files.rlim_max < 2 * slow_clients + 100)
    GTEST_SKIP() << "needs " << 2 * slow_clients + 100 << " descriptors";
  files.rlim_cur = files.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &files);

  auto settings = config();
  settings.limits.header_timeout = std::chrono::milliseconds(2500);
  TestServer server(settings);
  std::vector<std::unique_ptr<Client>> slow;
  for (int i = 0; i < slow_clients; ++i) {
    slow.push_back(std::make_unique<Client>(server.port()));
    slow.back()->send("GET /index.html HTTP/1.1\r\nHo");
  }
  // Opening 1,000 connections at once is a burst of its own (about 25 ms of
  // work for the worker here); the measure starts once it is absorbed.
  EXPECT_EQ(fetch(server.port(), "GET", "/index.html").status, 200);
  std::vector<std::chrono::microseconds> fast;
  std::size_t next_slow = 0;
  for (int tick = 0; tick < 200; ++tick) {  // 2 s in ticks of 10 ms
    for (int i = 0; i < slow_clients / 100; ++i) slow[next_slow++ % slow_clients]->send("s");
    if (tick % 5 == 0) {
      auto start = std::chrono::steady_clock::now();
      EXPECT_EQ(fetch(server.port(), "GET", "/index.html").status, 200);
      fast.push_back(
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::sort(fast.begin(), fast.end());
  std::cout << "[ figures  ] " << fast.size() << " fast GETs among " << slow_clients
            << " slow clients: median " << fast[fast.size() / 2].count() << " us, slowest "
            << fast.back().count() << " us\n";
  EXPECT_LT(fast.back(), settings.limits.header_timeout);  // served long before the slow ones were dropped
  int timed_out = 0;
  for (auto& client : slow) timed_out += client->read_reply().status == 408;
  EXPECT_EQ(timed_out, slow_clients);
}

// Past max_connections a newcomer is told 503 at once and closed; a slot
// freed by a closing client is taken by the next one.
TEST_F(ConnectionTest, RefusesConnectionsPastTheMaximumWith503) {
  auto settings = config();
  settings.limits.max_connections = 3;
  TestServer server(settings);
  std::vector<std::unique_ptr<Client>> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(std::make_unique<Client>(server.port()));
    EXPECT_EQ(open.back()->request("GET", "/index.html").status, 200);
  }
  Client extra(server.port());
  extra.send("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");  // there when it is accepted
  Reply refused = extra.read_reply();
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.header("Retry-After"), "1");
  EXPECT_EQ(refused.header("Connection"), "close");
  EXPECT_TRUE(extra.closed_by_server());

  open.pop_back();  // closes one
  int status = 0;
  for (int attempt = 0; attempt < 100 && status != 200; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    status = fetch(server.port(), "GET", "/index.html").status;
  }
  EXPECT_EQ(status, 200);
  EXPECT_EQ(open.front()->request("GET", "/index.html").status, 200);
}

}  // namespace
}  // namespace verbd::test
