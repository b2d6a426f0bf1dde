// LOOKUP: asks a backend HTTP server for the same path (GET, HTTP/1.0) and
// answers with what it said. It waits on the network the plain way, with a
// blocking socket: verbd runs it on a pool thread, so while it waits the
// server goes on answering everyone else; a backend that never answers costs
// this request a 503 after [limits] handler_timeout_ms, and nothing more.
// A stand-alone plugin project, built against the installed verbd SDK:
//
//   cmake -S . -B build -DCMAKE_PREFIX_PATH=/where/verbd/is/installed
//   cmake --build build
//   cp build/lookup.so /path/to/verbd/plugins/
//
// Settings ([plugins.lookup]): backend = "127.0.0.1:8080" (an IPv4 address
// and port), timeout_ms = 5000 (for connecting, and for each read).
#include <verbd/plugin.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace {

// A connected socket, closed when it goes.
class Connection {
 public:
  Connection(const std::string& address, std::int64_t timeout_ms) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) throw std::runtime_error("no socket");
    timeval timeout{static_cast<time_t>(timeout_ms / 1000),
                    static_cast<suseconds_t>(timeout_ms % 1000 * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);  // also bounds connect()
    sockaddr_in to{};
    to.sin_family = AF_INET;
    auto colon = address.rfind(':');
    to.sin_port = htons(static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1))));
    connected_ = ::inet_pton(AF_INET, address.substr(0, colon).c_str(), &to.sin_addr) == 1 &&
                 ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
  }
  ~Connection() { ::close(fd_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool connected() const { return connected_; }
  bool send_all(const std::string& bytes) {
    for (std::size_t sent = 0; sent < bytes.size();) {
      ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }
  // Everything until the backend closes; false on a time-out or an error.
  bool receive_all(std::string& bytes) {
    char buffer[16384];
    while (true) {
      ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n == 0) return true;
      if (n < 0) return false;
      bytes.append(buffer, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_;
  bool connected_ = false;
};

class LookupPlugin {
 public:
  explicit LookupPlugin(verbd::Host& host)
      : backend_(host.setting("backend", std::string("127.0.0.1:8080"))),
        timeout_ms_(host.setting("timeout_ms", std::int64_t{5000})) {}

  void handle(const verbd::Request& request, verbd::Response& response) const {
    Connection backend(backend_, timeout_ms_);
    std::string reply;
    if (!backend.connected() ||
        !backend.send_all("GET " + std::string(request.target()) + " HTTP/1.0\r\nHost: " + backend_ +
                          "\r\n\r\n") ||
        !backend.receive_all(reply))
      return fail(response, 502, "the backend at " + backend_ + " did not answer");
    auto head_end = reply.find("\r\n\r\n");
    if (reply.compare(0, 9, "HTTP/1.1 ") != 0 && reply.compare(0, 9, "HTTP/1.0 ") != 0)
      return fail(response, 502, "the backend's answer is not HTTP");
    if (head_end == std::string::npos) return fail(response, 502, "the backend's answer has no end of head");
    response.status(std::stoi(reply.substr(9, 3)));
    response.header("Content-Type", "application/octet-stream");
    response.append(std::string_view(reply).substr(head_end + 4));
  }

 private:
  static void fail(verbd::Response& response, int status, const std::string& why) {
    response.status(status);
    response.header("Content-Type", "text/plain; charset=utf-8");
    response.append(why + "\n");
  }

  std::string backend_;
  std::int64_t timeout_ms_;
};

}  // namespace

VERBD_PLUGIN(LookupPlugin, "lookup", "1.0.0", "LOOKUP");
