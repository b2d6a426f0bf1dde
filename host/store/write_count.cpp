#include "store/write_count.hpp"

#include "common/fd.hpp"
#include "store/path.hpp"
#include "store/shared_files.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace verbd::store {

namespace {
[[noreturn]] void fail(const char* what) {
  throw std::runtime_error("cannot use the store's write count " + std::string(reserved_folder) + "/" +
                           WriteCount::file_name + " in its root: " + what + ": " + std::strerror(errno));
}
}  // namespace

WriteCount::WriteCount(int folder) {
  Fd file = open_shared_file(folder, file_name, true);
  if (!file.ok()) fail("open");
  // Growing a file that another process has grown already changes nothing:
  // the bytes it holds stay.
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) fail("fstat");
  if (st.st_size < static_cast<off_t>(sizeof(std::uint64_t)) &&
      ::ftruncate(file.get(), sizeof(std::uint64_t)) != 0)
    fail("ftruncate");
  void* memory = ::mmap(nullptr, sizeof(std::uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, file.get(), 0);
  if (memory == MAP_FAILED) fail("mmap");
  count_ = static_cast<std::uint64_t*>(memory);  // a new file's zero bytes are a count of 0
}

WriteCount::~WriteCount() { ::munmap(count_, sizeof(std::uint64_t)); }

}  // namespace verbd::store
