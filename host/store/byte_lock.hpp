// An exclusive lock on one byte of a file, held against other processes
// while the object lives. An open file description's lock (F_OFD_SETLKW):
// it belongs to the open file, not the process, so each process must open
// the file itself, and the threads of one process must exclude each other
// by other means (a mutex).
#pragma once

#include <fcntl.h>

#include <cerrno>

namespace verbd::store {

class ByteLock {
 public:
  ByteLock(int file, off_t byte) : file_(file), byte_(byte) { set(F_WRLCK); }
  ~ByteLock() { set(F_UNLCK); }
  ByteLock(const ByteLock&) = delete;
  ByteLock& operator=(const ByteLock&) = delete;

 private:
  void set(short type) const noexcept {
    struct flock range {};
    range.l_type = type;
    range.l_whence = SEEK_SET;
    range.l_start = byte_;
    range.l_len = 1;
    while (::fcntl(file_, F_OFD_SETLKW, &range) != 0 && errno == EINTR) {
    }
  }

  int file_;
  off_t byte_;
};

}  // namespace verbd::store
