// Host and port as a URL writes them: an IPv6 address in brackets.
#include "common/host_port.hpp"

#include <gtest/gtest.h>

namespace verbd {
namespace {

TEST(HostAndPort, PutsAnIpv6AddressInBrackets) {
  EXPECT_EQ(host_and_port("::1", 8080), "[::1]:8080");
  EXPECT_EQ(host_and_port("fe80::1%eth0", 7000), "[fe80::1%eth0]:7000");
  EXPECT_EQ(host_and_port("::ffff:127.0.0.1", 1), "[::ffff:127.0.0.1]:1");
}

TEST(HostAndPort, LeavesANameOrAnIpv4AddressAsItIs) {
  EXPECT_EQ(host_and_port("127.0.0.1", 6379), "127.0.0.1:6379");
  EXPECT_EQ(host_and_port("redis.example", 0), "redis.example:0");
}

TEST(HostAndPort, AppendsToWhatIsThere) {
  std::string line = "from ";
  append_host_and_port(line, "::", 65535);
  EXPECT_EQ(line, "from [::]:65535");
}

}  // namespace
}  // namespace verbd
