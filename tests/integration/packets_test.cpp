// What a connection puts on the wire, packet by packet. A connection that
// ends after its last response (Connection: close) sends the FIN and the
// ACK of the request in the response's packet, and bytes the client sent
// meanwhile, which make the kernel reset the connection, do not cost the
// response. Part of a request is acknowledged at once.
#include "../support/http_client.hpp"
#include "../support/plugin_folder.hpp"
#include "../support/process.hpp"
#include "../support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <linux/tcp.h>  // the kernel's tcp_info: glibc's lacks the segment counts
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

namespace verbd::test {
namespace {

using namespace std::chrono_literals;

class Packets : public ::testing::Test {
 protected:
  Packets() {
    stock(folder_, {"slow"}, {"get"});
    folder_.write("data/a", "twenty-six bytes of data.\n");
    folder_.write("verbd.toml",
                  "[server]\nport = 0\nworkers = 1\n[plugins]\ndirectory = \"plugins\"\n"
                  "[store]\nroot = \"data\"\nfsync = false\n[log]\naccess = false\n");
    verbd_ = std::make_unique<Process>(
        folder_, VERBD_BINARY, std::vector<std::string>{"--config", (folder_ / "verbd.toml").string()});
  }

  TempFolder folder_;
  std::unique_ptr<Process> verbd_;
};

// The segments a client's kernel has received on `fd`, and how many carried data.
struct Received {
  std::uint32_t segments = 0, with_data = 0;
};

Received received(int fd) {
  tcp_info info{};
  socklen_t size = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &size) != 0) return {};
  return {info.tcpi_segs_in, info.tcpi_data_segs_in};
}

// After the handshake the client receives one packet: the response, with
// the FIN and the ACK of the request in it. A response slower than the
// shortest delayed ACK (40 ms) follows a bare ACK of the request: such a
// connection is not counted.
TEST_F(Packets, TheFinTravelsWithTheLastBytesOfTheResponse) {
  ASSERT_NE(verbd_->port(), 0) << verbd_->err();
  int counted = 0;
  for (int i = 0; i < 20; ++i) {
    Client client(verbd_->port());
    Received before = received(client.socket());
    auto sent = std::chrono::steady_clock::now();
    client.send("GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(client.read_reply().body, "twenty-six bytes of data.\n");
    ASSERT_TRUE(client.closed_by_server());
    char byte;
    ASSERT_EQ(::recv(client.socket(), &byte, 1, 0), 0) << "a reset, not a FIN";
    bool quick = std::chrono::steady_clock::now() - sent < 20ms;
    Received after = received(client.socket());
    EXPECT_EQ(after.with_data - before.with_data, 1u);
    if (!quick) continue;
    ++counted;
    EXPECT_EQ(after.segments - before.segments, 1u) << "a FIN or an ACK came in a packet of its own";
  }
  EXPECT_GT(counted, 0);
}

// The request is read and being answered when more bytes arrive; they are
// never read, so closing resets the connection. The response and the FIN
// have left before: the client reads the whole response.
TEST_F(Packets, BytesSentAfterAClosingRequestDoNotCostItsResponse) {
  ASSERT_NE(verbd_->port(), 0) << verbd_->err();
  for (int i = 0; i < 5; ++i) {
    Client client(verbd_->port());
    client.send("SLOW /sleep/200 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    std::this_thread::sleep_for(100ms);
    client.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    Reply reply = client.read_reply();
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.body, "slept 200");
    EXPECT_TRUE(client.closed_by_server());
  }
}

// The listener's delayed-ACK mode is for whole requests, answered at once.
// The head of a request whose end has not come is acknowledged as soon as
// it is read: a client that holds the rest back until then (Nagle's
// algorithm) does not wait for the delayed-ACK timer, at least 40 ms. The
// fastest of five connections is timed: load may slow one, hardly all five.
TEST_F(Packets, PartOfARequestIsAcknowledgedAtOnce) {
  ASSERT_NE(verbd_->port(), 0) << verbd_->err();
  auto fastest = std::chrono::milliseconds::max();
  for (int i = 0; i < 5; ++i) {
    Client client(verbd_->port());
    auto sent = std::chrono::steady_clock::now();
    client.send("GET /a HTTP/1.1\r\n");
    int unacknowledged;
    while ((unacknowledged = client.unacknowledged_bytes()) > 0 &&
           std::chrono::steady_clock::now() - sent < 1s)
      std::this_thread::sleep_for(200us);
    ASSERT_EQ(unacknowledged, 0);
    fastest = std::min(fastest, std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::steady_clock::now() - sent));
    client.send("Host: x\r\n\r\n");
    EXPECT_EQ(client.read_reply().status, 200);
  }
  EXPECT_LT(fastest, 20ms);
}

}  // namespace
}  // namespace verbd::test
