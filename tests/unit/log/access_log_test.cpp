#include "log/access_log.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <string_view>
#include <tuple>

namespace verbd::log {
namespace {

using std::chrono::system_clock;

// 2026-11-27 06:21:37.629 UTC
const system_clock::time_point at = system_clock::from_time_t(1795760497) + std::chrono::milliseconds(629);

AccessRecord a_get() {
  AccessRecord record;
  record.client = "127.0.0.1";
  record.client_port = 53716;
  record.method = "GET";
  record.target = "/docs/a.txt?x=1";
  record.status = 200;
  record.bytes = 157;
  record.body_bytes = 26;
  record.user_agent = "curl/7.88.1";
  record.duration = std::chrono::microseconds(117);
  return record;
}

std::string line(config::AccessFormat format, const AccessRecord& record,
                 system_clock::time_point when = at) {
  ::setenv("TZ", "UTC", 1);
  std::string out;
  format_access(format, record, when, out);
  return out;
}

TEST(AccessLog, CombinedIsWhatApacheAndNginxWrite) {
  EXPECT_EQ(line(config::AccessFormat::combined, a_get()),
            "127.0.0.1 - - [27/Nov/2026:06:21:37 +0000] \"GET /docs/a.txt?x=1 HTTP/1.1\" 200 26 \"-\" "
            "\"curl/7.88.1\"");
}

TEST(AccessLog, CombinedEscapesWhatTheClientSentSoThatNoLineIsForged) {
  auto record = a_get();
  record.referer = "http://x/\"";
  record.user_agent = "a\\b\x01\xe9";
  record.version = 10;
  EXPECT_EQ(line(config::AccessFormat::combined, record),
            "127.0.0.1 - - [27/Nov/2026:06:21:37 +0000] \"GET /docs/a.txt?x=1 HTTP/1.0\" 200 26 "
            "\"http://x/\\x22\" \"a\\x5Cb\\x01\\xE9\"");
}

TEST(AccessLog, CombinedMarksARequestRefusedBeforeItsMethod) {
  AccessRecord record;
  record.client = "::1";
  record.status = 400;
  record.body_bytes = 12;
  EXPECT_EQ(line(config::AccessFormat::combined, record),
            "::1 - - [27/Nov/2026:06:21:37 +0000] \"- - HTTP/1.1\" 400 12 \"-\" \"-\"");
}

TEST(AccessLog, VerbdsOwnFormatHasPortAllBytesAndDuration) {
  EXPECT_EQ(line(config::AccessFormat::verbd, a_get()),
            "127.0.0.1:53716 \"GET /docs/a.txt?x=1 HTTP/1.1\" 200 157 0.117ms");
}

TEST(AccessLog, VerbdsOwnFormatPutsAnIpv6ClientInBracketsBeforeItsPort) {
  auto record = a_get();
  record.client = "2001:db8::7";
  EXPECT_EQ(line(config::AccessFormat::verbd, record),
            "[2001:db8::7]:53716 \"GET /docs/a.txt?x=1 HTTP/1.1\" 200 157 0.117ms");
}

TEST(AccessLog, JsonIsOneValidObjectWhateverTheClientSent) {
  auto record = a_get();
  record.user_agent = "q\"\\\n\xff";
  EXPECT_EQ(
      line(config::AccessFormat::json, record),
      "{\"time\":\"2026-11-27T06:21:37.629Z\",\"client\":\"127.0.0.1\",\"method\":\"GET\","
      "\"target\":\"/docs/a.txt?x=1\",\"version\":\"1.1\",\"status\":200,\"bytes\":157,\"body_bytes\":26,"
      "\"referer\":\"\",\"user_agent\":\"q\\\"\\\\\\u000a\\u00ff\",\"duration_ms\":0.117}");
}

// The time's text is kept for a second: a line of another second has its own.
TEST(AccessLog, EachLineHasTheTimeOfItsOwnSecond) {
  using namespace std::chrono_literals;
  auto has = [](config::AccessFormat format, system_clock::time_point when, std::string_view text) {
    return line(format, a_get(), when).find(text) != std::string::npos;
  };
  for (auto [when, json, combined] : {std::tuple{at, "T06:21:37.629Z", "[27/Nov/2026:06:21:37 +0000]"},
                                      {at + 300ms, "T06:21:37.929Z", "[27/Nov/2026:06:21:37 +0000]"},
                                      {at + 1s, "T06:21:38.629Z", "[27/Nov/2026:06:21:38 +0000]"},
                                      {at - 1h, "T05:21:37.629Z", "[27/Nov/2026:05:21:37 +0000]"},
                                      {at, "T06:21:37.629Z", "[27/Nov/2026:06:21:37 +0000]"}}) {
    EXPECT_TRUE(has(config::AccessFormat::json, when, json)) << json;
    EXPECT_TRUE(has(config::AccessFormat::combined, when, combined)) << combined;
  }
}

}  // namespace
}  // namespace verbd::log
