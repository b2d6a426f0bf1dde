#include "tls_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace verbd::test {
namespace {

std::string openssl_error() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  char text[256] = "the connection ended";
  if (code != 0) ERR_error_string_n(code, text, sizeof text);
  return text;
}

}  // namespace

void make_certificate(const std::filesystem::path& certificate, const std::filesystem::path& key,
                      const std::string& name) {
  std::string command = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -keyout " +
                        key.string() + " -out " + certificate.string() + " -subj /CN=" + name +
                        " -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("openssl req failed: " + command);
}

TlsClient::TlsClient(std::uint16_t port, const TlsOptions& options) {
  context_ = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(context_, TLS1_VERSION);
  if (options.max_version != 0) SSL_CTX_set_max_proto_version(context_, options.max_version);
  SSL_CTX_set_security_level(context_, 0);  // let a test offer what the server must refuse
  if (!options.trusted.empty()) {
    SSL_CTX_load_verify_locations(context_, options.trusted.c_str(), nullptr);
    SSL_CTX_set_verify(context_, SSL_VERIFY_PEER, nullptr);
  }
  SSL_CTX_set_session_cache_mode(context_, SSL_SESS_CACHE_OFF);  // a cache would spoil the session when freed
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval five_seconds{5, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &five_seconds, sizeof five_seconds);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    std::string why = std::strerror(errno);
    free_all();
    throw std::runtime_error("connect: " + why);
  }
  ssl_ = SSL_new(context_);
  SSL_set_fd(ssl_, fd_);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
  if (!options.alpn.empty()) {
    std::string wire = std::string(1, static_cast<char>(options.alpn.size())) + options.alpn;
    SSL_set_alpn_protos(ssl_, reinterpret_cast<const unsigned char*>(wire.data()),
                        static_cast<unsigned>(wire.size()));
  }
  if (options.resume != nullptr) SSL_set_session(ssl_, options.resume);
  if (SSL_connect(ssl_) != 1) {
    std::string why = openssl_error();
    free_all();
    throw std::runtime_error("TLS handshake failed: " + why);
  }
}

TlsClient::~TlsClient() {
  if (ssl_ != nullptr) SSL_shutdown(ssl_);  // without it OpenSSL takes the session for one not to resume
  free_all();
}

void TlsClient::free_all() noexcept {
  SSL_free(ssl_);  // each of these accepts "none"
  if (fd_ >= 0) ::close(fd_);
  SSL_CTX_free(context_);
}

std::string TlsClient::protocol() const { return SSL_get_version(ssl_); }

std::string TlsClient::alpn() const {
  const unsigned char* chosen = nullptr;
  unsigned size = 0;
  SSL_get0_alpn_selected(ssl_, &chosen, &size);
  return std::string(reinterpret_cast<const char*>(chosen), size);
}

std::string TlsClient::subject() const {
  X509* certificate = SSL_get1_peer_certificate(ssl_);
  if (certificate == nullptr) return {};
  char text[256];
  X509_NAME_oneline(X509_get_subject_name(certificate), text, sizeof text);
  X509_free(certificate);
  return text;
}

bool TlsClient::resumed() const { return SSL_session_reused(ssl_) == 1; }

SSL_SESSION* TlsClient::session() const { return SSL_get1_session(ssl_); }

void TlsClient::send(const std::string& bytes) {
  std::size_t written = 0;
  if (SSL_write_ex(ssl_, bytes.data(), bytes.size(), &written) != 1 || written != bytes.size())
    throw std::runtime_error("TLS write failed: " + openssl_error());
}

bool TlsClient::fill() {
  char chunk[16384];
  std::size_t got = 0;
  if (SSL_read_ex(ssl_, chunk, sizeof chunk, &got) != 1) return false;
  buffered_.append(chunk, got);
  return true;
}

Reply TlsClient::read_reply(bool to_head) {
  std::size_t end;
  while ((end = buffered_.find("\r\n\r\n")) == std::string::npos)
    if (!fill()) throw std::runtime_error("the connection ended before a response head");
  Reply reply;
  std::string head = buffered_.substr(0, end + 2);
  buffered_.erase(0, end + 4);
  std::size_t line_end = head.find("\r\n");
  reply.status_line = head.substr(0, line_end);
  reply.status = std::stoi(reply.status_line.substr(9, 3));
  for (std::size_t at = line_end + 2; at < head.size();) {
    std::size_t next = head.find("\r\n", at);
    std::string field = head.substr(at, next - at);
    std::size_t colon = field.find(':');
    reply.headers.emplace_back(field.substr(0, colon), field.substr(colon + 2));
    at = next + 2;
  }
  std::size_t length =
      reply.has_header("Content-Length") && !to_head ? std::stoul(reply.header("Content-Length")) : 0;
  while (buffered_.size() < length)
    if (!fill()) throw std::runtime_error("the connection ended inside a body");
  reply.body = buffered_.substr(0, length);
  buffered_.erase(0, length);
  return reply;
}

Reply TlsClient::request(const std::string& method, const std::string& target, const std::string& body) {
  send(method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nContent-Length: " + std::to_string(body.size()) +
       "\r\n\r\n" + body);
  return read_reply(method == "HEAD");
}

}  // namespace verbd::test
