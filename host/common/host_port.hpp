// A host and a port joined as a URL joins them (RFC 3986 §3.2.2): an IPv6
// address goes in brackets, or its own colons would run into the port's
// ("::1:8080" could be port 8080 of ::1 or the address ::1:8080).
#pragma once

#include <string>
#include <string_view>

namespace verbd {

inline void append_host_and_port(std::string& out, std::string_view host, unsigned port) {
  bool ipv6 = host.find(':') != std::string_view::npos;
  if (ipv6) out += '[';
  out += host;
  if (ipv6) out += ']';
  out += ':';
  out += std::to_string(port);
}

inline std::string host_and_port(std::string_view host, unsigned port) {
  std::string out;
  append_host_and_port(out, host, port);
  return out;
}

}  // namespace verbd
