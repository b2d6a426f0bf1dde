// An open file descriptor, closed when it goes: the files store's files and
// folders, a large resource on its way to a socket (http::Response), a
// large body on its way in (http::Request); and reading the start of a file
// through one.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
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

// Appends to `bytes` the `size` bytes of the file open as `fd` from byte
// `offset`, or fewer if it has shrunk meanwhile. Returns 0, or the errno of
// a failed read (what was read before it stays appended).
inline int append_file_part(int fd, std::uint64_t offset, std::uint64_t size, std::string& bytes) {
  auto start = bytes.size();
  bytes.resize(start + size);
  std::size_t done = 0;
  int error = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, bytes.data() + start + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) error = errno;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  bytes.resize(start + done);
  return error;
}

// The first `size` bytes, as above.
inline int append_file_start(int fd, std::uint64_t size, std::string& bytes) {
  return append_file_part(fd, 0, size, bytes);
}

// A new file in `folder` without a name (O_TMPFILE): it vanishes when its
// last descriptor closes, whatever happens to the process, unless it is
// given a name (linkat) first.
inline Fd open_unnamed_file(const char* folder) {
  return Fd(::open(folder, O_TMPFILE | O_RDWR | O_CLOEXEC, 0644));
}

inline const char* temporary_folder() {
  const char* folder = std::getenv("TMPDIR");
  return folder != nullptr && *folder != '\0' ? folder : "/tmp";
}

}  // namespace verbd
