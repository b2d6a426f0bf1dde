#include "log/access_log.hpp"

#include "common/host_port.hpp"
#include "log/log.hpp"

#include <fmt/format.h>

#include <ctime>

namespace verbd::log {
namespace {

using Clock = std::chrono::system_clock;

// A time's text that stays the same for a whole second, so each thread
// formats it once a second, as nginx does: strftime's `format`, in UTC or
// in local time.
struct SecondText {
  std::time_t second = -1;
  char text[40];
  std::size_t size = 0;
};
std::string_view text_of_second(SecondText& cached, Clock::time_point now, const char* format, bool utc) {
  std::time_t second = Clock::to_time_t(now);
  if (second != cached.second) {
    std::tm broken_down{};
    if (utc)
      ::gmtime_r(&second, &broken_down);
    else
      ::localtime_r(&second, &broken_down);
    cached.size = std::strftime(cached.text, sizeof cached.text, format, &broken_down);
    cached.second = second;
  }
  return {cached.text, cached.size};
}

// "[27/Nov/2026:06:21:37 +0000]" in local time.
std::string_view clf_time(Clock::time_point now) {
  thread_local SecondText cached;
  return text_of_second(cached, now, "[%d/%b/%Y:%H:%M:%S %z]", false);
}

// "2026-11-27T06:21:37", in UTC.
std::string_view iso_time(Clock::time_point now) {
  thread_local SecondText cached;
  return text_of_second(cached, now, "%Y-%m-%dT%H:%M:%S", true);
}

// As nginx does: `"` and `\` and every byte that is not printable ASCII as \xHH.
void append_escaped(std::string& out, std::string_view text) {
  if (text.empty()) return out.push_back('-');
  for (unsigned char c : text) {
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
      fmt::format_to(std::back_inserter(out), "\\x{:02X}", c);
    else
      out.push_back(static_cast<char>(c));
  }
}

// A JSON string: `"` and `\` escaped, and every byte that is not printable
// ASCII as \u00HH, so that the line is valid JSON whatever the client sent.
void append_json(std::string& out, std::string_view text) {
  out.push_back('"');
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c >= 0x7f) {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
}

void format_combined(const AccessRecord& r, Clock::time_point now, std::string& out) {
  auto to = std::back_inserter(out);
  fmt::format_to(to, "{} - - {} \"", r.client, clf_time(now));
  append_escaped(out, r.method);  // a request refused before its method was read: "-"
  out.push_back(' ');
  append_escaped(out, r.target);
  fmt::format_to(to, " HTTP/{}.{}\" {} {} \"", r.version / 10, r.version % 10, r.status, r.body_bytes);
  append_escaped(out, r.referer);
  out.append("\" \"");
  append_escaped(out, r.user_agent);
  out.push_back('"');
}

void format_verbd(const AccessRecord& r, std::string& out) {
  auto micros = r.duration.count();
  append_host_and_port(out, r.client, r.client_port);
  fmt::format_to(std::back_inserter(out), " \"{} ", r.method);
  append_escaped(out, r.target);
  fmt::format_to(std::back_inserter(out), " HTTP/{}.{}\" {} {} {}.{:03}ms", r.version / 10, r.version % 10,
                 r.status, r.bytes, micros / 1000, micros % 1000);
}

void format_json(const AccessRecord& r, Clock::time_point now, std::string& out) {
  auto to = std::back_inserter(out);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  fmt::format_to(to, "{{\"time\":\"{}.{:03}Z\",\"client\":", iso_time(now), millis);
  append_json(out, r.client);
  out.append(",\"method\":");
  append_json(out, r.method);
  out.append(",\"target\":");
  append_json(out, r.target);
  fmt::format_to(to, ",\"version\":\"{}.{}\",\"status\":{},\"bytes\":{},\"body_bytes\":{},\"referer\":",
                 r.version / 10, r.version % 10, r.status, r.bytes, r.body_bytes);
  append_json(out, r.referer);
  out.append(",\"user_agent\":");
  append_json(out, r.user_agent);
  fmt::format_to(to, ",\"duration_ms\":{}.{:03}}}", r.duration.count() / 1000, r.duration.count() % 1000);
}

}  // namespace

void format_access(config::AccessFormat format, const AccessRecord& record, Clock::time_point now,
                   std::string& out) {
  switch (format) {
    case config::AccessFormat::combined:
      return format_combined(record, now, out);
    case config::AccessFormat::verbd:
      return format_verbd(record, out);
    case config::AccessFormat::json:
      return format_json(record, now, out);
  }
}

void write_access(const AccessRecord& record) {
  thread_local std::string line;
  line.clear();
  static auto& log = access();  // get() locks the registry: once, not for every line
  format_access(access_format(), record, Clock::now(), line);
  log.info("{}", line);
}

}  // namespace verbd::log
