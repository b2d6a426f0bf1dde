#include "canned_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace verbd::test {

CannedServer::CannedServer(std::vector<Step> steps) : steps_(std::move(steps)) {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::listen(listener_, 4);
  socklen_t size = sizeof address;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size);
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { play(); });
}

CannedServer::~CannedServer() {
  ::shutdown(listener_, SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
  ::close(listener_);
}

std::string CannedServer::received() {
  if (thread_.joinable()) thread_.join();
  return received_;
}

void CannedServer::play() {
  pollfd waiting{listener_, POLLIN, 0};
  if (::poll(&waiting, 1, 10000) <= 0) return;
  int client = ::accept(listener_, nullptr, nullptr);
  if (client < 0) return;
  std::string pending;
  auto read_more = [&] {
    pollfd readable{client, POLLIN, 0};
    if (::poll(&readable, 1, 10000) <= 0) return false;
    char chunk[4096];
    ssize_t n = ::recv(client, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    pending.append(chunk, static_cast<std::size_t>(n));
    received_.append(chunk, static_cast<std::size_t>(n));
    return true;
  };
  for (const auto& step : steps_) {
    if (step.kind == Step::read_head) {
      while (pending.find("\r\n\r\n") == std::string::npos)
        if (!read_more()) break;
      pending.erase(0, pending.find("\r\n\r\n") + 4);
    } else if (step.kind == Step::read_bytes) {
      while (pending.size() < std::stoul(step.bytes))
        if (!read_more()) break;
      pending.erase(0, std::stoul(step.bytes));
    } else if (step.kind == Step::send) {
      ::send(client, step.bytes.data(), step.bytes.size(), MSG_NOSIGNAL);
    } else if (step.kind == Step::stall) {
      while (read_more()) {
      }
    } else {
      break;
    }
  }
  ::close(client);
}

}  // namespace verbd::test
