#include "http_client.hpp"

#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <strings.h>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace verbd::test {

constexpr int reply_timeout_ms = 5000;

std::string Reply::header(std::string_view name) const {
  for (const auto& [field, value] : headers)
    if (field.size() == name.size() && ::strncasecmp(field.data(), name.data(), name.size()) == 0)
      return value;
  return {};
}

bool Reply::has_header(std::string_view name) const { return count_header(name) > 0; }

std::size_t Reply::count_header(std::string_view name) const {
  std::size_t count = 0;
  for (const auto& [field, value] : headers)
    if (field.size() == name.size() && ::strncasecmp(field.data(), name.data(), name.size()) == 0) ++count;
  return count;
}

Client::Client(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
}

Client::~Client() {
  if (fd_ >= 0) ::close(fd_);
}

void Client::send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

bool Client::fill(int wait_ms) {
  pollfd waiting{fd_, POLLIN, 0};
  if (::poll(&waiting, 1, wait_ms) <= 0) return false;
  char chunk[16384];
  ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n <= 0) return false;
  buffered_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

std::string Client::take_line() {
  std::size_t end;
  while ((end = buffered_.find("\r\n")) == std::string::npos)
    if (!fill(reply_timeout_ms)) throw std::runtime_error("connection ended inside a response head");
  std::string line = buffered_.substr(0, end);
  buffered_.erase(0, end + 2);
  return line;
}

Reply Client::read_reply(bool to_head) {
  Reply reply = read_head();
  bool bodiless = to_head || reply.status == 204 || reply.status == 304 || reply.status / 100 == 1;
  if (bodiless) return reply;
  if (reply.has_header("Content-Length")) {
    std::size_t length = std::stoul(reply.header("Content-Length"));
    while (buffered_.size() < length)
      if (!fill(reply_timeout_ms)) throw std::runtime_error("connection ended inside a body");
    reply.body = buffered_.substr(0, length);
    buffered_.erase(0, length);
  } else if (::strcasecmp(reply.header("Transfer-Encoding").c_str(), "chunked") == 0) {
    for (std::string piece = read_chunk(); !piece.empty(); piece = read_chunk()) {
      reply.body += piece;
      ++reply.chunks;
    }
  } else {
    while (fill(reply_timeout_ms)) {
    }
    reply.body = std::move(buffered_);
    buffered_.clear();
  }
  return reply;
}

Reply Client::read_head() {
  if (buffered_.empty() && !fill(reply_timeout_ms)) throw ClosedBeforeReply();
  Reply reply;
  reply.status_line = take_line();
  if (reply.status_line.size() < 12 || reply.status_line.compare(0, 5, "HTTP/") != 0)
    throw std::runtime_error("not a status line: " + reply.status_line);
  reply.status = std::stoi(reply.status_line.substr(9, 3));
  for (std::string line = take_line(); !line.empty(); line = take_line()) {
    auto colon = line.find(':');
    auto value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    reply.headers.emplace_back(line.substr(0, colon), value);
  }
  return reply;
}

std::string Client::read_chunk() {
  std::size_t size = std::stoul(take_line(), nullptr, 16);
  if (size == 0) {
    while (!take_line().empty()) {  // trailer fields, then the empty line
    }
    return {};
  }
  while (buffered_.size() < size + 2)
    if (!fill(reply_timeout_ms)) throw std::runtime_error("connection ended inside a chunk");
  if (buffered_.compare(size, 2, "\r\n") != 0) throw std::runtime_error("a chunk not ended by CRLF");
  std::string piece = buffered_.substr(0, size);
  buffered_.erase(0, size + 2);
  return piece;
}

Reply Client::request(std::string_view method, std::string_view target, std::string_view body,
                      const std::vector<std::string>& extra_headers) {
  std::string message = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& field : extra_headers) message += field + "\r\n";
  if (!body.empty() || method == "PUT" || method == "POST")
    message += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  message += "\r\n";
  message += body;
  send(message);
  return read_reply(method == "HEAD");
}

bool Client::closed_by_server(int wait_ms) {
  pollfd waiting{fd_, POLLIN, 0};
  if (::poll(&waiting, 1, wait_ms) <= 0) return false;
  char byte;
  ssize_t n = ::recv(fd_, &byte, 1, MSG_PEEK);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

int Client::unacknowledged_bytes() const {
  int bytes = 0;
  return ::ioctl(fd_, SIOCOUTQ, &bytes) == 0 ? bytes : -1;
}

Reply fetch(std::uint16_t port, std::string_view method, std::string_view target, std::string_view body,
            const std::vector<std::string>& extra_headers) {
  Client client(port);
  return client.request(method, target, body, extra_headers);
}

}  // namespace verbd::test
