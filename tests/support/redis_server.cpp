#include "redis_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

namespace verbd::test {
namespace {

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// A port nothing listens on now: the kernel's pick for a socket bound to 0.
std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address = loopback(0);
  socklen_t size = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0)
    throw std::runtime_error("no free port on 127.0.0.1");
  ::close(fd);
  return ntohs(address.sin_port);
}

// Redis answers PING on `port` (PONG, or that it wants a password): ours
// has bound it, not another program that took the port first (then ours
// has failed).
bool redis_answers(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address = loopback(port);
  timeval wait{.tv_sec = 1, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  char reply[16] = {};
  bool pong =
      ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::send(fd, "PING\r\n", 6, MSG_NOSIGNAL) == 6 && ::recv(fd, reply, sizeof reply - 1, 0) > 0 &&
      (std::string_view(reply).starts_with("+PONG") || std::string_view(reply).starts_with("-NOAUTH"));
  ::close(fd);
  return pong;
}

std::string redis_server_program() {
  std::istringstream path(std::getenv("PATH") != nullptr ? std::getenv("PATH") : "/usr/bin");
  for (std::string folder; std::getline(path, folder, ':');)
    if (::access((folder + "/redis-server").c_str(), X_OK) == 0) return folder + "/redis-server";
  throw std::runtime_error("redis-server is not installed (apt-get install redis-server)");
}

}  // namespace

// A port picked free may be taken before redis-server binds it (by an
// outgoing connection or a listener of another test): then another one.
RedisServer::RedisServer(std::vector<std::string> options) : options_(std::move(options)) {
  for (int attempt = 1;; ++attempt) {
    port_ = free_port();
    try {
      start();
      return;
    } catch (const std::runtime_error&) {
      if (attempt == 3) throw;
    }
  }
}

RedisServer& RedisServer::shared() {
  static RedisServer server;
  return server;
}

config::Redis RedisServer::settings(std::string prefix) const {
  static std::atomic<int> count{0};
  config::Redis redis;
  redis.url = "redis://127.0.0.1:" + std::to_string(port_) + "/0";
  redis.host = "127.0.0.1";
  redis.port = port_;
  redis.prefix =
      prefix.empty() ? "test-" + std::to_string(::getpid()) + "-" + std::to_string(++count) : prefix;
  return redis;
}

void RedisServer::stop() { process_.reset(); }

void RedisServer::start() {
  std::vector<std::string> arguments{
      "--port", std::to_string(port_),   "--bind",           "127.0.0.1", "--save", "",
      "--dir",  folder_.path().string(), "--protected-mode", "no"};
  arguments.insert(arguments.end(), options_.begin(), options_.end());
  process_ = std::make_unique<Process>(folder_, redis_server_program(), arguments);
  for (int i = 0; i < 500 && !redis_answers(port_); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (!redis_answers(port_))
    throw std::runtime_error("redis-server did not start: " + process_->out() + process_->err());
}

}  // namespace verbd::test
