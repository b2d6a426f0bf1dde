// verb's connection: waiting for a response keeps to --timeout, however
// often a signal interrupts the wait.
#include "connection.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace {

using namespace std::chrono_literals;

// A server on 127.0.0.1 that takes one connection, never answers, and
// hangs up after `silence`.
class SilentServer {
 public:
  explicit SilentServer(std::chrono::milliseconds silence) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), size) != 0 || ::listen(listener_, 1) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size) != 0)
      throw std::runtime_error("cannot listen");
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this, silence] {
      int client = ::accept(listener_, nullptr, nullptr);
      std::this_thread::sleep_for(silence);
      ::close(client);
    });
  }
  ~SilentServer() {
    thread_.join();
    ::close(listener_);
  }
  std::uint16_t port() const { return port_; }

 private:
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

void ignore_signal(int) {}

TEST(ClientConnection, ASignalDoesNotStretchTheTimeout) {
  struct sigaction handler {};
  handler.sa_handler = &ignore_signal;  // a handler, so that the signal interrupts poll() with EINTR
  ASSERT_EQ(::sigaction(SIGUSR1, &handler, nullptr), 0);

  SilentServer server(1500ms);  // hangs up after the timeout: a wait stretched past it ends in Malformed
  verb::Connection connection(400ms);
  connection.open("127.0.0.1", server.port());
  connection.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");

  std::atomic<bool> waiting{true};
  pthread_t self = ::pthread_self();
  std::thread pest([&] {
    while (waiting) {
      std::this_thread::sleep_for(20ms);
      if (waiting) ::pthread_kill(self, SIGUSR1);
    }
  });
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(connection.receive(false), verb::TimedOut);
  auto waited = std::chrono::steady_clock::now() - start;
  waiting = false;
  pest.join();
  EXPECT_GE(waited, 400ms);
  connection.close();
}

}  // namespace
