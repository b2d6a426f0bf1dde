// How the host names the Redis it uses, in its listening line and in every
// log line about Redis: as written in a URL, never with the password.
#include "store/redis_client.hpp"

#include "../../support/temp_folder.hpp"
#include "config/config.hpp"

#include <gtest/gtest.h>

namespace verbd::store {
namespace {

config::Redis redis_of(const std::string& store_section) {
  test::TempFolder folder;
  folder.write("verbd.toml", "[store]\nbackend = \"redis\"\n" + store_section);
  return config::load(folder / "verbd.toml").store.redis;
}

TEST(RedisLocation, IsHostPortAndDatabaseOfTheUrlWithoutItsPassword) {
  EXPECT_EQ(redis_location(redis_of("url = \"redis://reader:secret@10.0.0.7:7000/3\"\n")), "10.0.0.7:7000/3");
  EXPECT_EQ(redis_location(redis_of("")), "127.0.0.1:6379/0");
}

TEST(RedisLocation, PutsAnIpv6AddressInBracketsAsTheUrlHadIt) {
  EXPECT_EQ(redis_location(redis_of("url = \"redis://[::1]:6380/2\"\n")), "[::1]:6380/2");
}

TEST(RedisLocation, NamesAClusterByItsFirstNodeAndHowManyMore) {
  EXPECT_EQ(redis_location(redis_of("cluster = [\"[::1]:7001\", \"127.0.0.1:7000\", \"127.0.0.1:7002\"]\n")),
            "cluster [::1]:7001 and 2 more");
  EXPECT_EQ(redis_location(redis_of("cluster = [\"127.0.0.1:7000\"]\n")), "cluster 127.0.0.1:7000");
}

}  // namespace
}  // namespace verbd::store
