// Where a request goes: the URL typed (a path relative to the base, or a
// full http:// or https:// URL) resolved to a host, a port, TLS or not, and
// a request-target.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace verb {

// A URL verb cannot use: malformed, or neither http:// nor https://.
class BadUrl : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Address {
  std::string host;  // as written: a name or an address ("[::1]" without brackets)
  std::uint16_t port = 80;  // 443 for https://
  bool tls = false;         // https://
  std::string target;     // origin-form: "/path?query"
  std::string authority;  // the Host field's value: "host" or "host:port"
};

// Resolves `url` against `base` (RFC 3986 §5). Throws BadUrl.
Address resolve(std::string_view base, std::string_view url);

}  // namespace verb
