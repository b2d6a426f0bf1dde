// An open file descriptor, closed when it goes: the files store's files and
// folders, and a large resource on its way to a socket (http::Response);
// and reading the start of a file through one.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <utility>

namespace verbd {

class Fd {
 public:
  explicit Fd(int fd = -1) noexcept : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);  // the old descriptor closes with `other`
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }
  bool ok() const noexcept { return fd_ >= 0; }
  // Gives the descriptor up: the caller closes it now.
  int release() noexcept { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// Appends to `bytes` the first `size` bytes of the file open as `fd`, or
// fewer if it has shrunk meanwhile. Returns 0, or the errno of a failed read
// (what was read before it stays appended).
inline int append_file_start(int fd, std::uint64_t size, std::string& bytes) {
  auto start = bytes.size();
  bytes.resize(start + size);
  std::size_t done = 0;
  int error = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, bytes.data() + start + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) error = errno;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  bytes.resize(start + done);
  return error;
}

}  // namespace verbd
