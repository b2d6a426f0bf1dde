#include "connection.hpp"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <strings.h>
#include <cerrno>
#include <cstring>

namespace verb {

namespace http = boost::beast::http;

std::string Response::field(std::string_view name) const {
  for (const auto& [key, value] : fields)
    if (key.size() == name.size() && ::strncasecmp(key.data(), name.data(), name.size()) == 0) return value;
  return {};
}

void Connection::open(const std::string& host, std::uint16_t port) {
  if (is_open() && host == host_ && port == port_) return;
  close();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int error = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); error != 0)
    throw ConnectFailed("cannot resolve host '" + host + "': " + ::gai_strerror(error));
  std::string why = "no address";
  for (addrinfo* at = found; at != nullptr && fd_ < 0; at = at->ai_next) {
    int fd = ::socket(at->ai_family, at->ai_socktype | SOCK_CLOEXEC, at->ai_protocol);
    if (fd >= 0 && ::connect(fd, at->ai_addr, at->ai_addrlen) == 0) {
      fd_ = fd;
    } else {
      why = std::strerror(errno);
      if (fd >= 0) ::close(fd);
    }
  }
  ::freeaddrinfo(found);
  if (fd_ < 0) throw ConnectFailed("cannot connect to " + host + ":" + std::to_string(port) + ": " + why);
  host_ = host;
  port_ = port;
  buffered_.clear();
}

void Connection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void Connection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw ConnectFailed(std::string("sending failed: ") + std::strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Waits at most the timeout for bytes, however often a signal interrupts the
// wait (poll returns EINTR and would otherwise be taken for readable).
void Connection::wait_readable() {
  auto deadline = std::chrono::steady_clock::now() + timeout_;
  while (true) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd waiting{fd_, POLLIN, 0};
    int ready = left.count() > 0 ? ::poll(&waiting, 1, static_cast<int>(left.count())) : 0;
    if (ready > 0) return;
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0)
      throw ConnectFailed(std::string("waiting for the response failed: ") + std::strerror(errno));
    throw TimedOut("no response within " + std::to_string(timeout_.count() / 1000.0).substr(0, 4) + " s");
  }
}

bool Connection::fill() {
  wait_readable();
  char chunk[65536];
  ssize_t n;
  do {
    n = ::recv(fd_, chunk, sizeof chunk, 0);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  buffered_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

Response Connection::receive(bool to_head) {
  Response response;
  while (true) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    parser.skip(to_head);
    parser.eager(true);
    std::string wire;
    while (!parser.is_done()) {
      boost::beast::error_code error;
      if (!buffered_.empty()) {
        std::size_t used = parser.put(boost::asio::buffer(buffered_), error);
        wire.append(buffered_, 0, used);
        buffered_.erase(0, used);
        if (error && error != http::error::need_more)
          throw Malformed("malformed response: " + error.message());
        if (parser.is_done() || (!error && !buffered_.empty())) continue;
      }
      if (!fill()) {
        close();
        if (!parser.got_some()) throw Malformed("the server closed the connection without a response");
        parser.put_eof(error);  // ends a close-delimited body; anything else is cut short
        if (error || !parser.is_done())
          throw Malformed("the server closed the connection in the middle of a response");
      }
    }
    const auto& message = parser.get();
    if (message.result_int() / 100 == 1 && message.result_int() != 101) {
      response.interim.push_back(std::move(wire));
      continue;
    }
    response.status = message.result_int();
    response.wire = std::move(wire);
    response.head = response.wire.substr(0, response.wire.find("\r\n\r\n") + 4);
    response.body = message.body();
    for (const auto& field : message) response.fields.emplace_back(field.name_string(), field.value());
    response.keep_alive = message.keep_alive() && is_open();
    if (!response.keep_alive) close();
    return response;
  }
}

}  // namespace verb
