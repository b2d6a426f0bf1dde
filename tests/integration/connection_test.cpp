// How the host handles connections, framing and refusals, whatever the plugins.
#include "../support/http_client.hpp"
#include "../support/temp_folder.hpp"
#include "../support/test_server.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace verbd::testing {
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

TEST_F(ConnectionTest, AnIdleConnectionIsClosedQuietly) {
  auto settings = config();
  settings.limits.idle_timeout = std::chrono::milliseconds(200);
  TestServer server(settings);
  Client idle(server.port());
  EXPECT_EQ(idle.request("GET", "/index.html").status, 200);
  EXPECT_TRUE(idle.closed_by_server(3000));
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

}  // namespace
}  // namespace verbd::testing
