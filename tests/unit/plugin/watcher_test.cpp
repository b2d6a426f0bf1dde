#include "plugin/watcher.hpp"

#include "../../support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>

namespace verbd::plugin {
namespace {

using verbd::test::TempFolder;
using namespace std::chrono_literals;

class WatcherTest : public ::testing::Test {
 protected:
  WatcherTest() : watcher_(context_, folder_.path(), [this] { ++changes_; }) {
    std::string error;
    EXPECT_TRUE(watcher_.start(error)) << error;
  }

  // Runs the watcher's loop until `changes_` reaches `count` or `limit` passes.
  void run_until(int count, std::chrono::milliseconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (changes_ < count && std::chrono::steady_clock::now() < end) {
      context_.restart();
      context_.run_for(20ms);
    }
  }

  TempFolder folder_;
  boost::asio::io_context context_;
  int changes_ = 0;
  Watcher watcher_;
};

TEST_F(WatcherTest, ReportsAnAddedPluginOnce) {
  folder_.write("a.so", "bytes");
  folder_.write("b.so", "bytes");
  run_until(1, 3000ms);
  EXPECT_EQ(changes_, 1);
  run_until(2, 400ms);  // the burst was one change
  EXPECT_EQ(changes_, 1);
}

TEST_F(WatcherTest, ReportsRemovedAndRenamedPlugins) {
  folder_.write("a.so", "bytes");
  run_until(1, 3000ms);
  std::filesystem::remove(folder_ / "a.so");
  run_until(2, 3000ms);
  EXPECT_EQ(changes_, 2);
  folder_.write("staging.tmp", "bytes");
  run_until(3, 400ms);
  EXPECT_EQ(changes_, 2);  // not a plugin file
  std::filesystem::rename(folder_ / "staging.tmp", folder_ / "c.so");
  run_until(3, 3000ms);
  EXPECT_EQ(changes_, 3);
}

TEST_F(WatcherTest, WaitsForAFileBeingWrittenToBeClosed) {
  int fd = ::open((folder_ / "slow.so").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "half", 4), 4);
  run_until(1, 600ms);
  EXPECT_EQ(changes_, 0);
  ASSERT_EQ(::write(fd, " and the rest", 13), 13);
  ::close(fd);
  run_until(1, 3000ms);
  EXPECT_EQ(changes_, 1);
}

}  // namespace
}  // namespace verbd::plugin
