// The event loop's watchdog: one timer for the deadlines of all its
// connections. The times are short and only their order is asserted.
#include "net/watchdog.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <string>
#include <utility>
#include <vector>

namespace verbd::net {
namespace {

using namespace std::chrono_literals;
using Clock = Watchdog::Clock;

// Notes when it is woken, and may then ask to be woken again later.
class Sleeper : public Watchdog::Watched {
 public:
  Sleeper(std::string name, std::vector<std::string>& woken) : name_(std::move(name)), woken_(woken) {}
  Clock::time_point again = Clock::time_point::max();
  Watchdog* watchdog = nullptr;

 private:
  void on_due() override {
    woken_.push_back(name_);
    if (again != Clock::time_point::max())
      watchdog->watch(*this, std::exchange(again, Clock::time_point::max()));
  }
  std::string name_;
  std::vector<std::string>& woken_;
};

class WatchdogTest : public ::testing::Test {
 protected:
  boost::asio::io_context context;
  Watchdog watchdog{context};
  std::vector<std::string> woken;
};

TEST_F(WatchdogTest, WakesEachAtItsTimeInOrder) {
  Sleeper late("late", woken), early("early", woken), never("never", woken);
  auto now = Clock::now();
  watchdog.watch(late, now + 60ms);
  watchdog.watch(early, now + 20ms);
  watchdog.watch(never, Clock::time_point::max());
  EXPECT_EQ(early.due(), now + 20ms);
  context.run_for(200ms);
  EXPECT_EQ(woken, (std::vector<std::string>{"early", "late"}));
  EXPECT_EQ(early.due(), Clock::time_point::max());  // no longer watched
  EXPECT_FALSE(watchdog.empty());                    // `never` still is
}

TEST_F(WatchdogTest, AnEarlierTimeMovesOneAheadAndAForgottenOneIsNotWoken) {
  Sleeper first("first", woken), moved("moved", woken), forgotten("forgotten", woken);
  auto now = Clock::now();
  watchdog.watch(first, now + 40ms);
  watchdog.watch(moved, now + 10s);
  watchdog.watch(forgotten, now + 10ms);
  watchdog.watch(moved, now + 20ms);  // earlier: the timer is armed for it
  Watchdog::forget(forgotten);
  context.run_for(200ms);
  EXPECT_EQ(woken, (std::vector<std::string>{"moved", "first"}));
  EXPECT_TRUE(watchdog.empty());
}

TEST_F(WatchdogTest, OneWokenMayBeWatchedAgainAndOneDestroyedIsForgotten) {
  Sleeper twice("twice", woken);
  twice.watchdog = &watchdog;
  auto now = Clock::now();
  twice.again = now + 40ms;
  watchdog.watch(twice, now + 10ms);
  {
    Sleeper gone("gone", woken);
    watchdog.watch(gone, now + 20ms);
  }
  int visited = 0;
  watchdog.for_each([&](Watchdog::Watched&) { ++visited; });
  EXPECT_EQ(visited, 1);
  context.run_for(200ms);
  EXPECT_EQ(woken, (std::vector<std::string>{"twice", "twice"}));
  EXPECT_TRUE(watchdog.empty());
}

}  // namespace
}  // namespace verbd::net
