#include "connection.hpp"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <arpa/inet.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
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

namespace {

// As a URL writes them: an IPv6 address in brackets, apart from the port.
std::string host_and_port(const std::string& host, std::uint16_t port) {
  return (host.find(':') == std::string::npos ? host : "[" + host + "]") + ":" + std::to_string(port);
}

std::string openssl_error() {
  unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return "the connection ended";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

}  // namespace

Connection::~Connection() {
  close();
  SSL_CTX_free(tls_context_);
}

void Connection::open(const std::string& host, std::uint16_t port, bool tls) {
  if (is_open() && host == host_ && port == port_ && tls == tls_) return;
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
  if (fd_ < 0) throw ConnectFailed("cannot connect to " + host_and_port(host, port) + ": " + why);
  host_ = host;
  port_ = port;
  tls_ = tls;
  buffered_.clear();
  if (tls) start_tls(host);
}

// TLS 1.2 or 1.3, ALPN http/1.1, and the server's certificate checked
// against the trusted authorities and against `host` (a name or an
// address), unless --insecure.
void Connection::start_tls(const std::string& host) {
  auto fail = [&](const std::string& what) {
    std::string why = openssl_error();
    close();
    throw ConnectFailed("TLS with " + host_and_port(host, port_) + ": " + what + ": " + why);
  };
  if (tls_context_ == nullptr) {
    tls_context_ = SSL_CTX_new(TLS_client_method());
    if (tls_context_ == nullptr) fail("cannot make a TLS context");
    SSL_CTX_set_min_proto_version(tls_context_, TLS1_2_VERSION);
    bool trusted = tls_options_.cacert.empty() ? SSL_CTX_set_default_verify_paths(tls_context_) == 1
                                               : SSL_CTX_load_verify_locations(
                                                     tls_context_, tls_options_.cacert.c_str(), nullptr) == 1;
    if (!trusted && !tls_options_.insecure)
      fail("cannot read the trusted certificates" +
           (tls_options_.cacert.empty() ? std::string() : " of " + tls_options_.cacert));
    SSL_CTX_set_verify(tls_context_, tls_options_.insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, nullptr);
  }
  tls_broken_ = true;  // until the handshake is done
  ssl_ = SSL_new(tls_context_);
  if (ssl_ == nullptr) fail("cannot start TLS");
  SSL_set_fd(ssl_, fd_);
  static const unsigned char http11[] = "\x08http/1.1";
  SSL_set_alpn_protos(ssl_, http11, sizeof http11 - 1);
  in6_addr address;
  bool literal =
      ::inet_pton(AF_INET, host.c_str(), &address) == 1 || ::inet_pton(AF_INET6, host.c_str(), &address) == 1;
  if (literal) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl_, host.c_str());  // SNI is for names only
    SSL_set1_host(ssl_, host.c_str());
  }
  ERR_clear_error();
  if (SSL_connect(ssl_) != 1) {
    long verified = SSL_get_verify_result(ssl_);
    if (verified != X509_V_OK)
      fail(std::string("the server's certificate is not trusted (") +
           X509_verify_cert_error_string(verified) +
           "; --cacert FILE trusts its authority, --insecure skips the check)");
    fail("handshake failed");
  }
  tls_broken_ = false;
}

void Connection::close() {
  if (ssl_ != nullptr) {
    if (!tls_broken_) SSL_shutdown(ssl_);  // close_notify, best effort; OpenSSL forbids it after an error
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void Connection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    if (ssl_ != nullptr) {
      std::size_t written = 0;
      ERR_clear_error();
      if (SSL_write_ex(ssl_, bytes.data(), bytes.size(), &written) != 1) {
        tls_broken_ = true;
        throw ConnectFailed("sending failed: " + openssl_error());
      }
      bytes.remove_prefix(written);
      continue;
    }
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
  char chunk[65536];
  if (ssl_ != nullptr) {
    if (SSL_has_pending(ssl_) == 0) wait_readable();  // OpenSSL may hold bytes already
    std::size_t got = 0;
    ERR_clear_error();
    if (SSL_read_ex(ssl_, chunk, sizeof chunk, &got) != 1) {  // closed, or cut short
      tls_broken_ = SSL_get_error(ssl_, 0) != SSL_ERROR_ZERO_RETURN;
      return false;
    }
    buffered_.append(chunk, got);
    return true;
  }
  wait_readable();
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
