// Responses a plugin sends as it makes them (response_send) and files it
// made (response_file), through real sockets: each piece goes as it comes,
// chunked for HTTP/1.1 and up to the close for 1.0; HEAD, 204 and 304 get
// none; a failure after the head cuts the body short; the plugin learns
// that its client has gone; the time limit runs between pieces; a plugin in
// a process of its own streams the same way. One worker throughout.
#include "../support/http_client.hpp"
#include "../support/plugin_folder.hpp"
#include "../support/process.hpp"
#include "../support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <thread>

namespace verbd::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class StreamedResponses : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    std::string isolation = GetParam() ? "[plugins.stream]\nisolation = \"process\"\n" : "";
    stock(folder_, {"stream"}, {"get", "put"});
    folder_.write("data/a", "twenty-six bytes of data.\n");
    folder_.write("verbd.toml",
                  "[server]\nport = 0\nworkers = 1\n[limits]\nhandler_timeout_ms = 1000\n"
                  "[plugins]\ndirectory = \"plugins\"\n" +
                      isolation + "[store]\nroot = \"data\"\nfsync = false\n[log]\naccess = false\n");
    verbd_ = std::make_unique<Process>(
        folder_, VERBD_BINARY, std::vector<std::string>{"--config", (folder_ / "verbd.toml").string()});
    port_ = verbd_->port();
    ASSERT_NE(port_, 0) << verbd_->err();
  }

  bool log_shows(const std::string& pattern) const { return verbd_->err_shows(pattern); }

  static void send(Client& client, const std::string& method, const std::string& target,
                   const std::string& version = "1.1") {
    client.send(method + " " + target + " HTTP/" + version + "\r\nHost: t\r\n\r\n");
  }

  TempFolder folder_;
  std::unique_ptr<Process> verbd_;
  std::uint16_t port_ = 0;
};

INSTANTIATE_TEST_SUITE_P(InWorkerAndIsolated, StreamedResponses, ::testing::Bool(),
                         [](const auto& test) { return test.param ? "Isolated" : "InWorker"; });

TEST_P(StreamedResponses, APieceGoesBeforeThePluginHasMadeTheNext) {
  Client client(port_);
  send(client, "STREAM", "/wait");
  Reply head = client.read_head();
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Transfer-Encoding"), "chunked");
  EXPECT_FALSE(head.has_header("Content-Length"));
  EXPECT_EQ(head.header("Content-Type"), "text/plain");
  // The plugin now waits for /go: what it sent so far has come already.
  std::string first;
  while (first.size() < std::string("before first ").size()) first += client.read_chunk();
  EXPECT_EQ(first, "before first ");
  EXPECT_EQ(fetch(port_, "PUT", "/go", "now").status, 201);
  EXPECT_EQ(client.read_chunk(), "second");
  EXPECT_EQ(client.read_chunk(), "");
  // The connection goes on.
  EXPECT_EQ(client.request("GET", "/a").body, "twenty-six bytes of data.\n");
}

TEST_P(StreamedResponses, ManyPiecesArriveWholeInOrderAndBeforeTheNextResponse) {
  Client client(port_);
  // Pipelined: the GET's response waits for the whole streamed body.
  client.send(
      "STREAM /pieces/300/10000 HTTP/1.1\r\nHost: t\r\n\r\n"
      "GET /a HTTP/1.1\r\nHost: t\r\n\r\n");
  Reply streamed = client.read_reply();
  EXPECT_EQ(streamed.status, 200);
  EXPECT_EQ(streamed.header("X-Pieces"), "300");
  ASSERT_EQ(streamed.body.size(), 3'000'000u);
  for (std::size_t i = 0; i < 300; ++i)
    ASSERT_EQ(streamed.body.substr(i * 10000, 10000), std::string(10000, char('a' + i % 26))) << i;
  EXPECT_GE(streamed.chunks, 1u);
  EXPECT_EQ(client.read_reply().body, "twenty-six bytes of data.\n");
}

TEST_P(StreamedResponses, InHTTP10TheBodyEndsWithTheConnection) {
  Client client(port_);
  send(client, "STREAM", "/pieces/3/4", "1.0");
  Reply reply = client.read_reply();
  EXPECT_EQ(reply.status, 200);
  EXPECT_FALSE(reply.has_header("Transfer-Encoding"));
  EXPECT_FALSE(reply.has_header("Content-Length"));
  EXPECT_EQ(reply.header("Connection"), "close");
  EXPECT_EQ(reply.body, "aaaabbbbcccc");
  EXPECT_TRUE(client.closed_by_server());
}

TEST_P(StreamedResponses, HeadGetsTheHeadAlone) {
  Client client(port_);
  Reply head = client.request("HEAD", "/pieces/3/4");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("X-Pieces"), "3");
  EXPECT_FALSE(head.has_header("Content-Length"));  // not known without making the body
  // Nothing followed the head: the next response is read whole.
  EXPECT_EQ(client.request("GET", "/a").body, "twenty-six bytes of data.\n");
}

TEST_P(StreamedResponses, NoContentStatusesSendNoBody) {
  Client client(port_);
  Reply reply = client.request("STREAM", "/status/204");
  EXPECT_EQ(reply.status, 204);
  EXPECT_FALSE(reply.has_header("Transfer-Encoding"));
  EXPECT_FALSE(reply.has_header("Content-Length"));
  EXPECT_EQ(client.request("GET", "/a").body, "twenty-six bytes of data.\n");
}

TEST_P(StreamedResponses, AnEmptyBodyIsTheLastChunkAlone) {
  Client client(port_);
  Reply reply = client.request("STREAM", "/empty");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("Transfer-Encoding"), "chunked");
  EXPECT_EQ(reply.body, "");
  EXPECT_EQ(reply.chunks, 0u);
  EXPECT_EQ(client.request("GET", "/a").status, 200);
}

TEST_P(StreamedResponses, AFailureAfterTheHeadCutsTheBodyShort) {
  for (std::string target : {"/fail", "/late-header"}) {
    Client client(port_);
    send(client, "STREAM", target);
    Reply head = client.read_head();
    EXPECT_EQ(head.status, 200) << target;
    EXPECT_FALSE(client.read_chunk().empty()) << target;
    // No last chunk: the connection ends inside the body.
    EXPECT_THROW(client.read_chunk(), std::runtime_error) << target;
  }
  EXPECT_TRUE(
      log_shows(R"(stream \(stream\.so\) on STREAM /fail: failed after its body had begun: the body is )"
                R"(cut short)"));
  EXPECT_TRUE(log_shows(R"(on STREAM /late-header: response_header after response_send had sent the head)"));
  EXPECT_EQ(fetch(port_, "GET", "/a").status, 200);
}

TEST_P(StreamedResponses, ThePluginLearnsThatItsClientHasGone) {
  {
    Client client(port_);
    send(client, "STREAM", "/gone");
    EXPECT_EQ(client.read_head().status, 200);
    EXPECT_FALSE(client.read_chunk().empty());
  }  // closed, with megabytes still to come
  Reply seen;
  for (auto deadline = Clock::now() + 5s; Clock::now() < deadline; std::this_thread::sleep_for(20ms))
    if ((seen = fetch(port_, "GET", "/gone-seen")).status == 200) break;
  ASSERT_EQ(seen.status, 200) << "the plugin never stopped sending";
  EXPECT_LT(std::stoul(seen.body), 1'000'000u);
}

TEST_P(StreamedResponses, TheTimeLimitRunsBetweenPiecesNotOverTheWhole) {
  // Four pieces 400 ms apart: 1.2 s in all, over the 1 s limit, and whole.
  Reply slow = fetch(port_, "STREAM", "/slow/4/400");
  EXPECT_EQ(slow.body, "piece 0\npiece 1\npiece 2\npiece 3\n");
  // 3 s without a piece: cut short after 1 s.
  Client client(port_);
  send(client, "STREAM", "/stall/3000");
  EXPECT_EQ(client.read_head().status, 200);
  EXPECT_EQ(client.read_chunk(), "a");
  auto waited_from = Clock::now();
  EXPECT_THROW(client.read_chunk(), std::runtime_error);
  EXPECT_LT(Clock::now() - waited_from, 2800ms);
  EXPECT_TRUE(
      log_shows(R"(on STREAM /stall/3000: no piece of the body within 1000 ms: the body is cut short)"));
  EXPECT_EQ(fetch(port_, "GET", "/a").status, 200);
}

TEST_P(StreamedResponses, AFileThePluginMadeIsSentWithItsLength) {
  std::string expected;
  for (int i = 0; i < 20000; ++i) expected += "line " + std::to_string(i) + "\n";
  Client client(port_);
  Reply reply = client.request("STREAM", "/file/20000");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("Content-Length"), std::to_string(expected.size()));
  EXPECT_EQ(reply.body, expected);
  Reply head = client.request("HEAD", "/file/20000");
  EXPECT_EQ(head.header("Content-Length"), std::to_string(expected.size()));
  EXPECT_EQ(client.request("GET", "/a").body, "twenty-six bytes of data.\n");
}

}  // namespace
}  // namespace verbd::test
