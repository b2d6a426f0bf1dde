// HTTPS: OpenSSL's TLS between the socket and the connection.
//
// A TlsContext is [tls] made into an OpenSSL context: the certificate chain
// and key, TLS 1.2 and 1.3 only, Mozilla's "intermediate" ciphers unless
// [tls] ciphers says otherwise, ALPN "http/1.1", and session resumption by
// tickets whose keys every worker process shares (made once, before the
// workers are forked), so that a client resumes whichever process it meets.
// SIGHUP builds a new context from the files; connections open keep theirs.
//
// A TlsSession is one connection's TLS, driven without blocking: each call
// does what it can now and says what it waits for (want_read, want_write).
// OpenSSL writes to the socket itself, but reads from a memory buffer that
// the connection fills (take()) with what it reads from the socket with
// Asio. A read is always tried before reading the socket, because OpenSSL
// may hold bytes already.
#pragma once

#include "config/config.hpp"

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace verbd::net {

struct TlsSettings {
  std::filesystem::path certificate, key;
  std::string ciphers;
};

TlsSettings tls_settings_from(const config::Tls& tls);

class TlsContext {
 public:
  // Throws std::runtime_error naming the file that does not serve and why.
  explicit TlsContext(const TlsSettings& settings);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* get() const noexcept { return context_; }

 private:
  SSL_CTX* context_ = nullptr;
};

// What a TlsSession call did.
enum class TlsIo {
  done,        // n bytes read or written (or the handshake finished)
  want_read,   // call again once the socket is readable
  want_write,  // call again once the socket is writable
  closed,      // the client ended the TLS session (close_notify)
  failed,      // a TLS or socket error: close the connection
};

class TlsSession {
 public:
  TlsSession(const TlsContext& context, int socket);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Hands OpenSSL bytes read from the socket.
  void take(std::span<const char> ciphertext);

  TlsIo handshake();
  TlsIo read(std::span<char> into, std::size_t& n);
  TlsIo write(std::span<const char> bytes, std::size_t& n);
  // Sends close_notify if it can now; never waits.
  void shutdown();
  bool established() const noexcept { return established_; }
  // Why the last call failed, from OpenSSL's error queue.
  std::string why_failed() const { return why_; }

 private:
  TlsIo outcome(int result);

  SSL* ssl_ = nullptr;
  bool established_ = false;
  bool failed_ = false;
  std::string why_;
};

}  // namespace verbd::net
