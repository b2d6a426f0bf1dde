// The writing of a spooled body on a thread of its own: the bytes arrive in
// the file in order, the connection is told when it may read more and when
// all is written, a failed write is reported rather than lost, and an
// abandoned body keeps nothing of the connection.
#include "http/spool_writer.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <memory>
#include <string>
#include <thread>

namespace verbd::http {
namespace {

using namespace std::chrono_literals;

bool eventually_drained(const SpoolWriter& writer) {
  for (int i = 0; i < 500 && !writer.drained(); ++i) std::this_thread::sleep_for(10ms);
  return writer.drained();
}

std::string contents(int fd) {
  std::string bytes(1 << 22, '\0');
  ssize_t n = ::pread(fd, bytes.data(), bytes.size(), 0);
  bytes.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return bytes;
}

TEST(SpoolWriter, WritesEveryPieceInOrderAndSaysWhenAllIsWritten) {
  Fd file(::open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  ASSERT_TRUE(file.ok());
  auto writer = std::make_shared<SpoolWriter>(Fd(::fcntl(file.get(), F_DUPFD_CLOEXEC, 0)));
  std::string expected;
  for (int i = 0; i < 3000; ++i) {
    std::string piece = std::to_string(i) + std::string(1000, char('a' + i % 26));
    writer->append(piece);
    expected += piece;
  }
  std::atomic<int> told{0};
  writer->when_changed([&] { ++told; });
  ASSERT_TRUE(eventually_drained(*writer));
  EXPECT_GE(told, 1);
  EXPECT_EQ(writer->error(), 0);
  EXPECT_FALSE(writer->behind());
  EXPECT_EQ(contents(file.get()), expected);
  int at_once = 0;
  writer->when_changed([&] { ++at_once; });  // drained already: at once
  EXPECT_EQ(at_once, 1);
}

TEST(SpoolWriter, AFailedWriteIsReportedAndEndsTheWriting) {
  Fd read_only(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  auto writer = std::make_shared<SpoolWriter>(std::move(read_only));
  writer->append("cannot be written");
  ASSERT_TRUE(eventually_drained(*writer));
  EXPECT_EQ(writer->error(), EBADF);
  writer->append("dropped");  // after a failure, nothing more is taken
  EXPECT_TRUE(writer->drained());
}

TEST(SpoolWriter, AbandonDropsTheCallbackThatHoldsTheConnection) {
  std::signal(SIGPIPE, SIG_IGN);  // the write after the reader has gone fails with EPIPE instead
  int ends[2];
  ASSERT_EQ(::pipe2(ends, O_CLOEXEC), 0);
  Fd reader(ends[0]);
  // A pipe nobody reads: the writer stalls on it once it is full.
  auto writer = std::make_shared<SpoolWriter>(Fd(ends[1]));
  auto held = std::make_shared<int>(1);
  for (int i = 0; i < 200 && !writer->behind(); ++i) {
    writer->append(std::string(64 * 1024, 'x'));  // the writer takes some, then waits on the pipe
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(writer->behind());  // the connection would stop reading now
  writer->when_changed([held] {});
  writer->abandon();
  EXPECT_EQ(held.use_count(), 1);
  reader = Fd();  // the writer's next write fails, and it lets go
  EXPECT_TRUE(eventually_drained(*writer));
}

}  // namespace
}  // namespace verbd::http
