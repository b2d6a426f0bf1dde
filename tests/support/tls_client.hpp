// A plain blocking TLS client to 127.0.0.1 for the HTTPS tests: what was
// negotiated (protocol, ALPN, the server's certificate, resumption), and
// requests answered with a Content-Length.
#pragma once

#include "http_client.hpp"

#include <cstdint>
#include <filesystem>
#include <string>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct ssl_session_st SSL_SESSION;

namespace verbd::test {

// A certificate and key for "localhost" and 127.0.0.1, made with the openssl
// command; `name` goes into the subject, so that tests tell two apart.
void make_certificate(const std::filesystem::path& certificate, const std::filesystem::path& key,
                      const std::string& name);

struct TlsOptions {
  std::filesystem::path trusted;  // the certificate to trust
  std::string alpn = "http/1.1";  // offered; empty: none
  int max_version = 0;            // e.g. TLS1_2_VERSION; 0: the newest
  SSL_SESSION* resume = nullptr;  // a session to resume
};

class TlsClient {
 public:
  // Connects and does the handshake; throws std::runtime_error with
  // OpenSSL's reason when it fails.
  TlsClient(std::uint16_t port, const TlsOptions& options);
  ~TlsClient();
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  std::string protocol() const;  // "TLSv1.3"
  std::string alpn() const;      // "http/1.1", or "" when none was agreed
  std::string subject() const;   // of the server's certificate: "CN = localhost-a"
  bool resumed() const;
  // The session, to resume it on another connection; the caller frees it (SSL_SESSION_free).
  SSL_SESSION* session() const;

  void send(const std::string& bytes);
  // Reads one response with a Content-Length (a response to HEAD has no body).
  Reply read_reply(bool to_head = false);
  Reply request(const std::string& method, const std::string& target, const std::string& body = {});

 private:
  bool fill();
  // Frees what the client holds: by the destructor, and by a constructor
  // that throws, for which no destructor runs.
  void free_all() noexcept;

  SSL_CTX* context_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  std::string buffered_;
};

}  // namespace verbd::test
