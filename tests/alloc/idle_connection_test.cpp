// An idle keep-alive connection holds at most half a KiB of the server's
// heap (README, "Performance": the connection and its shared_ptr control
// block, Asio's state for the socket, the pending wait for readability).
//
// Counted as glibc counts it (mallinfo2: bytes in chunks in use, headers
// included, every arena), so that Asio's own allocations, which do not all
// go through operator new, count too. Sanitizers bring their own
// allocator: there the test is skipped.
#include "../support/temp_folder.hpp"
#include "../support/test_server.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <thread>
#include <vector>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define VERBD_OWN_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define VERBD_OWN_ALLOCATOR 1
#endif
#endif

namespace verbd::test {
namespace {

constexpr std::size_t kIdleConnectionBytes = 512;

std::size_t heap_in_use() {
  struct mallinfo2 info = ::mallinfo2();
  return info.uordblks + info.hblkhd;
}

// Enough descriptors for `wanted` connections with both ends in this
// process, or as many connections as the hard limit allows.
int connections_allowed(int wanted) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
  rlim_t spare = limit.rlim_cur > 200 ? (limit.rlim_cur - 200) / 2 : 0;
  return static_cast<int>(std::min<rlim_t>(static_cast<rlim_t>(wanted), spare));
}

// Reads one answer whole (its header, then Content-Length bytes of body)
// into a buffer on the stack; false if the connection ends first.
bool read_answer(int fd, std::string_view expected_start) {
  char buffer[1024];
  std::size_t got = 0, wanted = 0;
  while (wanted == 0 || got < wanted) {
    ssize_t n = ::recv(fd, buffer + got, sizeof buffer - got, 0);
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
    std::string_view text(buffer, got);
    std::size_t end = text.find("\r\n\r\n");
    std::size_t field = text.find("Content-Length: ");
    if (wanted == 0 && end != std::string_view::npos && field < end)
      wanted = end + 4 + std::strtoul(buffer + field + 16, nullptr, 10);
  }
  return std::string_view(buffer, got).starts_with(expected_start);
}

// A new connection that has sent `request` and read its answer. Plain
// system calls: nothing on the heap.
int connect_and_ask(std::uint16_t port, std::string_view request, std::string_view expected_start) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::send(fd, request.data(), request.size(), 0) != static_cast<ssize_t>(request.size()) ||
      !read_answer(fd, expected_start)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// The heap once the server's threads have stopped changing it: the last
// connection's answer is read before its server side waits again.
std::size_t settled_heap() {
  std::size_t now = heap_in_use();
  for (int i = 0; i < 40; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::size_t later = heap_in_use();
    if (later == now) return now;
    now = later;
  }
  return now;
}

TEST(IdleConnection, HoldsAtMostHalfAKibOfTheServersHeap) {
#ifdef VERBD_OWN_ALLOCATOR
  GTEST_SKIP() << "a sanitizer's allocator: glibc does not see the heap";
#endif
  int count = connections_allowed(2 * 1000) / 2;
  ASSERT_GE(count, 100) << "too few file descriptors (ulimit -n) for a figure per connection";
  TempFolder folder;
  TestServer server(test_config("memory", folder / "data"));
  int writer = connect_and_ask(
      server.port(), "PUT /idle.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nidle\n", "HTTP/1.1 201");
  ASSERT_GE(writer, 0);
  ::close(writer);

  std::string_view get = "GET /idle.txt HTTP/1.1\r\nHost: x\r\n\r\n";
  // Two batches: the first also pays what is made once, when a loop of the
  // worker serves for the first time (its read buffer); the second, only
  // what each connection holds.
  std::vector<int> fds;
  fds.reserve(2 * static_cast<std::size_t>(count));
  auto open_batch = [&] {
    for (int i = 0; i < count; ++i) {
      int fd = connect_and_ask(server.port(), get, "HTTP/1.1 200");
      if (fd < 0) return false;
      fds.push_back(fd);
    }
    return true;
  };
  ASSERT_TRUE(open_batch());
  std::size_t before = settled_heap();
  ASSERT_TRUE(open_batch());
  std::size_t after = settled_heap();
  for (int fd : fds) ::close(fd);

  double per_connection = static_cast<double>(after - before) / count;
  std::printf("%d idle connections more: %.1f bytes of heap each\n", count, per_connection);
  EXPECT_LE(per_connection, kIdleConnectionBytes);
}

}  // namespace
}  // namespace verbd::test
