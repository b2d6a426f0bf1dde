// The hand-over of a body a plugin makes while it is sent: pieces in order,
// a bounded amount held, each end told, and a maker told that nobody takes
// more once the connection is done with it.
#include "http/body_stream.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace verbd::http {
namespace {

using namespace std::chrono_literals;
using End = BodyStream::End;

TEST(BodyStream, PiecesTakenTogetherInOrderThenTheEnd) {
  BodyStream stream;
  EXPECT_TRUE(stream.push("one "));
  EXPECT_TRUE(stream.push(""));
  EXPECT_TRUE(stream.push("two"));
  std::string pieces;
  EXPECT_EQ(stream.take(pieces), End::open);
  EXPECT_EQ(pieces, "one two");
  stream.finish();
  EXPECT_EQ(stream.take(pieces), End::complete);
  EXPECT_EQ(pieces, "");
  EXPECT_FALSE(stream.push("late"));  // ended: nobody takes more
}

TEST(BodyStream, TheConnectionIsToldOnceWhenThereIsMore) {
  BodyStream stream;
  int told = 0;
  stream.when_more([&] { ++told; });
  EXPECT_EQ(told, 0);
  stream.push("a");
  stream.push("b");
  EXPECT_EQ(told, 1);
  stream.when_more([&] { ++told; });  // something waits already: at once
  EXPECT_EQ(told, 2);
  std::string pieces;
  stream.take(pieces);
  stream.when_more([&] { ++told; });
  stream.abort();
  EXPECT_EQ(told, 3);
  EXPECT_EQ(stream.take(pieces), End::cut_short);
}

TEST(BodyStream, AMakerWaitsWhileTheClientIsBehindAndLearnsWhenItHasGone) {
  BodyStream stream(4);
  ASSERT_TRUE(stream.push("1234"));  // full
  std::atomic<int> pushed{0};
  std::atomic<bool> last = true;
  std::thread maker([&] {
    last = stream.push("more");
    ++pushed;
    last = last && stream.push("again");  // full again: waits, until the close
    ++pushed;
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(pushed, 0);  // held back: 4 bytes wait already
  // Waiting for the client is not the maker's delay.
  EXPECT_GT(stream.last_progress(), BodyStream::Clock::now() - 10ms);
  std::string pieces;
  stream.take(pieces);
  EXPECT_EQ(pieces, "1234");
  for (int i = 0; i < 200 && pushed < 1; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(pushed, 1);
  stream.close();  // the client has gone
  maker.join();
  EXPECT_FALSE(last);
}

TEST(BodyStream, CloseDropsTheCallbackSoThatItHoldsNothing) {
  BodyStream stream;
  auto held = std::make_shared<int>(1);
  stream.when_more([held] {});
  EXPECT_EQ(held.use_count(), 2);
  stream.close();
  EXPECT_EQ(held.use_count(), 1);
  EXPECT_FALSE(stream.push("x"));
}

TEST(BodyStream, ChunksAreFramedInHexAndNeverEmpty) {
  std::string out;
  append_chunk(out, "hello");
  append_chunk(out, "");
  append_chunk(out, std::string(300, 'x'));
  EXPECT_EQ(out, "5\r\nhello\r\n12c\r\n" + std::string(300, 'x') + "\r\n");
}

}  // namespace
}  // namespace verbd::http
