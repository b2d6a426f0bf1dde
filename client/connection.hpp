// One HTTP/1.1 connection from the client side: a blocking socket with a
// timeout, and responses read with Beast's parser whatever their framing
// (Content-Length, chunked with trailers, close-delimited, 1xx first).
#pragma once

#include "address.hpp"

#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace verb {

// Connecting failed: refused, unknown host, unreachable.
class ConnectFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// No answer in time.
class TimedOut : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// The server sent something that is not HTTP, or stopped midway.
class Malformed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Response {
  int status = 0;
  std::string head;  // status line and fields, as received, ending with the blank line
  std::string wire;  // the whole message as received (chunk framing included)
  std::string body;  // the body, de-chunked
  std::vector<std::pair<std::string, std::string>> fields;
  std::vector<std::string> interim;  // 1xx responses that came first, as received
  bool keep_alive = true;

  std::string field(std::string_view name) const;  // "" when absent
};

class Connection {
 public:
  Connection(std::chrono::milliseconds timeout) : timeout_(timeout) {}
  ~Connection() { close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects if not connected to this host and port already.
  void open(const std::string& host, std::uint16_t port);
  bool is_open() const { return fd_ >= 0; }
  void close();

  void send(std::string_view bytes);
  // Reads one response (skipping 1xx ones, kept in `interim`). A response
  // to HEAD has no body whatever its fields say.
  Response receive(bool to_head);

 private:
  void wait_readable();  // throws TimedOut
  bool fill();           // false at end of stream; throws TimedOut

  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  std::string host_;
  std::uint16_t port_ = 0;
  std::string buffered_;
};

}  // namespace verb
