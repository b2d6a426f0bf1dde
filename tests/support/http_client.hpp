// A deliberately plain HTTP client over a blocking socket to 127.0.0.1, for
// tests that must see exactly what went over the wire: raw bytes out, one
// parsed response back, and whether the server closed the connection.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace verbd::test {

struct Reply {
  int status = 0;
  std::string status_line;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::size_t chunks = 0;  // of a chunked body, the chunks it came in (not counting the last)

  // The first field with this name (any case); "" when absent.
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
  std::size_t count_header(std::string_view name) const;
};

// The server closed the connection before sending any byte of a reply: on a
// kept-alive connection, the request was never taken up (RFC 9112 §9.3.1
// lets a client retry it).
class ClosedBeforeReply : public std::runtime_error {
 public:
  ClosedBeforeReply() : std::runtime_error("the server closed the connection before replying") {}
};

class Client {
 public:
  explicit Client(std::uint16_t port);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void send(std::string_view bytes);
  // Reads one response; `to_head` says it answers HEAD (no body follows).
  // Throws ClosedBeforeReply when the connection ends before any of it, and
  // std::runtime_error when it ends inside one.
  Reply read_reply(bool to_head = false);
  // The parts of a reply, for one whose body comes as it is made: its
  // head; then each chunk's data of a chunked body, "" for the last.
  Reply read_head();
  std::string read_chunk();
  // Sends a request with Host and, for a body, Content-Length; reads the reply.
  Reply request(std::string_view method, std::string_view target, std::string_view body = {},
                const std::vector<std::string>& extra_headers = {});
  // True when the server has closed its side (read returns 0 or a reset)
  // within `wait_ms`, once nothing else is left to read.
  bool closed_by_server(int wait_ms = 2000);
  // Bytes sent that the server's kernel has not acknowledged yet.
  int unacknowledged_bytes() const;
  // The socket, for a test that reads its options.
  int socket() const noexcept { return fd_; }

 private:
  bool fill(int wait_ms);  // reads more into buffered_; false on EOF/timeout
  std::string take_line();

  int fd_ = -1;
  std::string buffered_;
};

// A new connection, one request, one reply.
Reply fetch(std::uint16_t port, std::string_view method, std::string_view target, std::string_view body = {},
            const std::vector<std::string>& extra_headers = {});

}  // namespace verbd::test
