// The client's address as the access log writes it, from the 18 bytes a
// connection keeps.
#include "net/connection.hpp"

#include <gtest/gtest.h>

namespace verbd::net {
namespace {

namespace ip = boost::asio::ip;

TEST(PeerAddress, AnIPv4AddressIsWrittenAsIPv4) {
  auto peer = PeerAddress::of({ip::make_address("127.0.0.1"), 40123});
  EXPECT_EQ(peer.text(), "127.0.0.1");
  EXPECT_EQ(peer.port, 40123);
}

TEST(PeerAddress, AnIPv6AddressIsWrittenAsIPv6) {
  EXPECT_EQ(PeerAddress::of({ip::make_address("2001:db8::7"), 443}).text(), "2001:db8::7");
  EXPECT_EQ(PeerAddress::of({ip::make_address("::1"), 443}).text(), "::1");
}

TEST(PeerAddress, NothingIsWrittenWhenTheAddressWasNotTaken) { EXPECT_EQ(PeerAddress{}.text(), ""); }

}  // namespace
}  // namespace verbd::net
