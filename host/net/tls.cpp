#include "net/tls.hpp"

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <cstring>
#include <stdexcept>

namespace verbd::net {
namespace {

// The last error of OpenSSL's queue, as text; the queue is emptied.
std::string openssl_error() {
  unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

// The keys that encrypt session tickets (name, HMAC key, AES key): made
// once per verbd, by the first context, which main() makes before the
// workers are forked, so that every worker process and every reloaded
// context resumes the sessions of the others.
const std::array<unsigned char, 80>& ticket_keys() {
  static const auto keys = [] {
    std::array<unsigned char, 80> made{};
    if (RAND_bytes(made.data(), static_cast<int>(made.size())) != 1)
      throw std::runtime_error("cannot make TLS session ticket keys: " + openssl_error());
    return made;
  }();
  return keys;
}

// ALPN: HTTP/1.1 when the client offers it. A client that offers only
// other protocols (h2 alone) gets the fatal alert RFC 7301 §3.2 asks for.
int select_http11(SSL*, const unsigned char** chosen, unsigned char* chosen_size, const unsigned char* offered,
                  unsigned int offered_size, void*) {
  static const unsigned char http11[] = "\x08http/1.1";
  unsigned char* out = nullptr;
  if (SSL_select_next_proto(&out, chosen_size, http11, sizeof http11 - 1, offered, offered_size) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  *chosen = out;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

TlsSettings tls_settings_from(const config::Tls& tls) { return {tls.certificate, tls.key, tls.ciphers}; }

TlsContext::TlsContext(const TlsSettings& settings) : context_(SSL_CTX_new(TLS_server_method())) {
  auto fail = [&](const std::string& what) {
    std::string why = openssl_error();
    SSL_CTX_free(context_);
    throw std::runtime_error(what + ": " + why);
  };
  if (context_ == nullptr) fail("cannot make a TLS context");
  SSL_CTX_set_min_proto_version(context_, TLS1_2_VERSION);
  // The server's order of ciphers, not the client's: every one on the list
  // is sound, but a client offering an old one first should not get it.
  SSL_CTX_set_options(context_,
                      SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Partial writes: a response larger than the socket takes goes as far as it
  // can, the rest when there is room, from a buffer that may have moved.
  // Idle connections give their read and write buffers back.
  SSL_CTX_set_mode(context_,
                   SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_read_ahead(context_, 1);  // a record in one read(2), not a header and then the rest
  if (SSL_CTX_set_cipher_list(context_, settings.ciphers.c_str()) != 1)
    fail("tls.ciphers '" + settings.ciphers + "' names no cipher OpenSSL has");
  if (SSL_CTX_set1_groups_list(context_, "X25519:prime256v1:secp384r1") != 1)
    fail("cannot set the TLS key exchange groups");
  SSL_CTX_set_dh_auto(context_, 1);
  if (SSL_CTX_use_certificate_chain_file(context_, settings.certificate.c_str()) != 1)
    fail("cannot load the TLS certificate " + settings.certificate.string());
  bool loaded = SSL_CTX_use_PrivateKey_file(context_, settings.key.c_str(), SSL_FILETYPE_PEM) == 1;
  bool mismatch = !loaded && ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
  if (!loaded && !mismatch) fail("cannot load the TLS key " + settings.key.string());
  if (mismatch || SSL_CTX_check_private_key(context_) != 1)
    fail("the TLS key " + settings.key.string() + " does not belong to the certificate " +
         settings.certificate.string());
  SSL_CTX_set_alpn_select_cb(context_, select_http11, nullptr);
  SSL_CTX_set_session_cache_mode(context_, SSL_SESS_CACHE_SERVER);
  static const unsigned char session_context[] = "verbd";
  SSL_CTX_set_session_id_context(context_, session_context, sizeof session_context - 1);
  auto keys = ticket_keys();
  if (SSL_CTX_set_tlsext_ticket_keys(context_, keys.data(), static_cast<long>(keys.size())) != 1)
    fail("cannot set the TLS session ticket keys");
}

TlsContext::~TlsContext() { SSL_CTX_free(context_); }

TlsSession::TlsSession(const TlsContext& context, int socket) : ssl_(SSL_new(context.get())) {
  BIO* input = BIO_new(BIO_s_mem());
  BIO* output = BIO_new_socket(socket, BIO_NOCLOSE);
  if (ssl_ == nullptr || input == nullptr || output == nullptr) {
    BIO_free(input);
    BIO_free(output);
    SSL_free(ssl_);
    throw std::bad_alloc();
  }
  BIO_set_mem_eof_return(input, -1);  // empty: "try again" (want_read), not the end
  SSL_set_bio(ssl_, input, output);
  SSL_set_accept_state(ssl_);
}

void TlsSession::take(std::span<const char> ciphertext) {
  if (!ciphertext.empty())
    BIO_write(SSL_get_rbio(ssl_), ciphertext.data(), static_cast<int>(ciphertext.size()));
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

TlsIo TlsSession::handshake() {
  ERR_clear_error();
  int result = SSL_do_handshake(ssl_);
  if (result == 1) {
    established_ = true;
    return TlsIo::done;
  }
  return outcome(result);
}

TlsIo TlsSession::read(std::span<char> into, std::size_t& n) {
  ERR_clear_error();
  int result = SSL_read_ex(ssl_, into.data(), into.size(), &n);
  return result == 1 ? TlsIo::done : outcome(result);
}

TlsIo TlsSession::write(std::span<const char> bytes, std::size_t& n) {
  n = 0;
  if (bytes.empty()) return TlsIo::done;
  ERR_clear_error();
  int result = SSL_write_ex(ssl_, bytes.data(), bytes.size(), &n);
  return result == 1 ? TlsIo::done : outcome(result);
}

void TlsSession::shutdown() {
  // Not after a fatal error, which OpenSSL forbids (the session is unusable).
  if (!established_ || failed_ || (SSL_get_shutdown(ssl_) & SSL_SENT_SHUTDOWN) != 0) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);  // close_notify, as far as the socket takes it now
  ERR_clear_error();
}

TlsIo TlsSession::outcome(int result) {
  switch (SSL_get_error(ssl_, result)) {
    case SSL_ERROR_WANT_READ:
      return TlsIo::want_read;
    case SSL_ERROR_WANT_WRITE:
      return TlsIo::want_write;
    case SSL_ERROR_ZERO_RETURN:
      return TlsIo::closed;
    case SSL_ERROR_SYSCALL:
      failed_ = true;
      why_ = errno != 0 ? std::strerror(errno) : "the client closed the connection";
      ERR_clear_error();
      return TlsIo::failed;
    default:
      failed_ = true;
      why_ = openssl_error();
      return TlsIo::failed;
  }
}

}  // namespace verbd::net
