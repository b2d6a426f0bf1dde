// A keep-alive GET from the memory store allocates nothing on the server
// once the connection is warm: every buffer on the request path keeps its
// capacity from one request to the next.
//
// This executable replaces the global operator new to count allocations
// made by the server's threads (the test's own thread is not counted).
#include "../support/temp_folder.hpp"
#include "../support/test_server.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string_view>

namespace {

std::atomic<long> server_allocations{0};
thread_local bool is_test_thread = false;

void* counted(std::size_t size) {
  if (!is_test_thread) server_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}

}  // namespace

void* operator new(std::size_t size) { return counted(size); }
void* operator new[](std::size_t size) { return counted(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace verbd::test {
namespace {

// A client of plain system calls and fixed buffers, so that it neither
// allocates nor depends on anything that does.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) std::abort();
  }
  ~RawClient() { ::close(fd_); }

  // Sends `request` and reads one response of `length` bytes (0: whatever
  // the first read brings); returns what was read.
  std::string_view exchange(std::string_view request, std::size_t length) {
    if (::send(fd_, request.data(), request.size(), 0) != static_cast<ssize_t>(request.size())) return {};
    std::size_t got = 0;
    do {
      ssize_t n = ::recv(fd_, reply_ + got, sizeof reply_ - got, 0);
      if (n <= 0) return {};
      got += static_cast<std::size_t>(n);
    } while (got < length);
    return {reply_, got};
  }

 private:
  int fd_ = -1;
  char reply_[4096];
};

TEST(SteadyState, AKeepAliveGetFromTheMemoryStoreAllocatesNothing) {
  is_test_thread = true;
  TempFolder folder;
  TestServer server(test_config("memory", folder / "data"));
  RawClient client(server.port());
  std::string_view put =
      "PUT /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 26\r\n\r\nHTTP GET Method (Success)\n";
  ASSERT_NE(client.exchange(put, 0).find("201 Created"), std::string_view::npos);

  std::string_view get = "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n";
  std::size_t length = client.exchange(get, 0).size();
  for (int i = 0; i < 1000; ++i) client.exchange(get, length);  // warm: every buffer at its size

  long before = server_allocations.load();
  int served = 0;
  for (int i = 0; i < 10000; ++i) {
    auto reply = client.exchange(get, length);
    served += reply.starts_with("HTTP/1.1 200 OK\r\n") && reply.ends_with("HTTP GET Method (Success)\n");
  }
  EXPECT_EQ(served, 10000);
  EXPECT_EQ(server_allocations.load() - before, 0) << "allocations by the server in 10,000 GETs";
}

}  // namespace
}  // namespace verbd::test
