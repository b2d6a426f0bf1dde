// One HTTP/1.1 connection from the client side: a blocking socket with a
// timeout, through TLS (OpenSSL) for https://, and responses read with
// Beast's parser whatever their framing (Content-Length, chunked with
// trailers, close-delimited, 1xx first).
#pragma once

#include "address.hpp"

#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

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

// How https:// connections check the server's certificate.
struct TlsOptions {
  std::string cacert;     // PEM file of the authorities to trust; empty: the system's
  bool insecure = false;  // no check at all (a test server's own certificate)
};

class Connection {
 public:
  explicit Connection(std::chrono::milliseconds timeout, TlsOptions tls = {})
      : timeout_(timeout), tls_options_(std::move(tls)) {}
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects if not connected to this host and port already; with `tls`,
  // then does the TLS handshake and checks the certificate names `host`
  // (ConnectFailed says why when it does not).
  void open(const std::string& host, std::uint16_t port, bool tls = false);
  bool is_open() const { return fd_ >= 0; }
  void close();

  void send(std::string_view bytes);
  // Reads one response (skipping 1xx ones, kept in `interim`). A response
  // to HEAD has no body whatever its fields say.
  Response receive(bool to_head);

 private:
  void wait_readable();  // throws TimedOut
  bool fill();           // false at end of stream; throws TimedOut
  void start_tls(const std::string& host);

  std::chrono::milliseconds timeout_;
  TlsOptions tls_options_;
  SSL_CTX* tls_context_ = nullptr;  // made on the first https:// connection
  SSL* ssl_ = nullptr;              // the open connection's TLS, if https://
  int fd_ = -1;
  std::string host_;
  std::uint16_t port_ = 0;
  bool tls_ = false;
  bool tls_broken_ = false;  // a TLS error happened: no close_notify then
  std::string buffered_;
};

}  // namespace verb
