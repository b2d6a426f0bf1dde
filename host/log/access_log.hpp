// The access log: one line per response, in the format [log] access_format
// names. Combined Log Format is what Apache and nginx write by default, so
// that GoAccess, AWStats and fail2ban read verbd's log as they read theirs:
//
//   127.0.0.1 - - [27/Nov/2026:06:21:37 +0000] "GET / HTTP/1.1" 200 131 "-" "curl/7.88.1"
//
// Whatever the client sent (target, Referer, User-Agent) is escaped, so that
// no line can forge another or break its quotes.
#pragma once

#include "config/config.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace verbd::log {

struct AccessRecord {
  std::string_view client;  // the client's address
  std::uint16_t client_port = 0;
  std::string_view method, target;
  int version = 11;  // 10 or 11
  int status = 0;
  std::uint64_t bytes = 0;               // the whole response, head and body
  std::uint64_t body_bytes = 0;          // its body alone
  std::string_view referer, user_agent;  // empty when not sent
  std::chrono::microseconds duration{};  // from the request's first byte to its response queued
};

// Appends the record's line, without its end of line, to `out`.
void format_access(config::AccessFormat format, const AccessRecord& record,
                   std::chrono::system_clock::time_point now, std::string& out);

// Writes the record to the access log (log.hpp: setup()).
void write_access(const AccessRecord& record);

}  // namespace verbd::log
