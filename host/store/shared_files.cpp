#include "store/shared_files.hpp"

#include "store/journal.hpp"
#include "store/lock_table.hpp"
#include "store/path.hpp"
#include "store/write_count.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>

namespace verbd::store {

namespace {

// Which file or folder this is, whatever its name leads to now.
struct Inode {
  dev_t device = 0;
  ino_t number = 0;
  bool operator==(const Inode&) const = default;
};

// Pinned once, before the process has threads (the supervisor's start, an
// isolated plugin's process's start), and only read after that.
struct Pins {
  int root = -1, folder = -1;  // the store's root, and the scratch folder the files are in
  Inode root_inode, folder_inode;
  std::vector<std::pair<std::string, int>> files;
};

Pins& pins() {
  static Pins pinned;
  return pinned;
}

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("cannot keep the store's shared files open: " + what + ": " + std::strerror(errno));
}

// Moves `fd` above the low numbers at which a process started by exec is
// handed descriptors of its own (an isolated plugin's socket is 3).
int keep(Fd fd, const std::string& what) {
  int kept = fd.ok() ? ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 10) : -1;
  if (kept < 0) fail(what);
  return kept;
}

Inode inode_of(int fd) {
  struct stat about {};
  return ::fstat(fd, &about) == 0 ? Inode{about.st_dev, about.st_ino} : Inode{};
}

void identify(Pins& pinned) {
  pinned.root_inode = inode_of(pinned.root);
  pinned.folder_inode = inode_of(pinned.folder);
  if (pinned.root_inode == Inode{} || pinned.folder_inode == Inode{}) fail("the store's folders");
}

// The pinned descriptor of `name` when the folder open as `scratch` is the
// one pinned; -1 otherwise.
int pinned_in(int scratch, std::string_view name) {
  const Pins& pinned = pins();
  if (pinned.folder < 0 || inode_of(scratch) != pinned.folder_inode) return -1;
  for (const auto& [file, fd] : pinned.files)
    if (file == name) return fd;
  return -1;
}

}  // namespace

std::vector<SharedFile> shared_files_of(const std::filesystem::path& root) {
  std::vector<SharedFile> files{{path_locks_file, "the locks that serialise writes to one path"},
                                {LockTable::file_name, "the WebDAV lock table"},
                                {WriteCount::file_name, "the count of writes that read caches check"},
                                {Journal::file_name, "the journal of durable writes"}};
  for (SharedFile& file : files) {
    struct stat about {};
    if (::stat((root / reserved_folder / file.name).c_str(), &about) != 0) continue;
    file.device = about.st_dev;
    file.inode = about.st_ino;
  }
  return files;
}

std::vector<SharedFile> pin_shared_files(const std::filesystem::path& root) {
  Pins pinned;
  auto folder = root / reserved_folder;
  pinned.root = keep(Fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)), root);
  pinned.folder = keep(Fd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)), folder);
  identify(pinned);
  auto files = shared_files_of(root);
  for (SharedFile& file : files) {
    int fd = keep(open_shared_file(pinned.folder, file.name, true), (folder / file.name).string());
    pinned.files.emplace_back(file.name, fd);
    Inode inode = inode_of(fd);
    if (inode == Inode{}) fail((folder / file.name).string());
    file.device = inode.device;
    file.inode = inode.number;
  }
  pins() = std::move(pinned);
  return files;
}

std::string pinned_as_text() {
  const Pins& pinned = pins();
  if (pinned.folder < 0) return {};
  std::string text = "root=" + std::to_string(pinned.root) + ",folder=" + std::to_string(pinned.folder);
  for (const auto& [name, fd] : pinned.files) text += "," + name + "=" + std::to_string(fd);
  return text;
}

std::vector<int> pinned_descriptors() {
  const Pins& pinned = pins();
  if (pinned.folder < 0) return {};
  std::vector<int> all{pinned.root, pinned.folder};
  for (const auto& file : pinned.files) all.push_back(file.second);
  return all;
}

void adopt_pinned(std::string_view text) {
  Pins pinned;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    auto equals = item.find('=');
    int fd = -1;
    auto number = equals == std::string_view::npos ? std::string_view() : item.substr(equals + 1);
    auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), fd);
    if (number.empty() || error != std::errc() || end != number.data() + number.size() ||
        ::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)  // kept from processes it starts in turn
      throw std::runtime_error("--shared-files: not an open descriptor: " + std::string(item));
    std::string_view name = item.substr(0, equals);
    if (name == "root")
      pinned.root = fd;
    else if (name == "folder")
      pinned.folder = fd;
    else
      pinned.files.emplace_back(name, fd);
  }
  if (pinned.root < 0 || pinned.folder < 0) throw std::runtime_error("--shared-files: no root or folder");
  identify(pinned);
  pins() = std::move(pinned);
}

int pinned_folder_of(int root) {
  const Pins& pinned = pins();
  return pinned.root >= 0 && inode_of(root) == pinned.root_inode ? pinned.folder : -1;
}

Fd open_shared_file(int scratch, const char* name, bool create) {
  if (int pinned = pinned_in(scratch, name); pinned >= 0) {
    Fd file(::open(("/proc/self/fd/" + std::to_string(pinned)).c_str(), O_RDWR | O_CLOEXEC));
    if (file.ok() || errno != ENOENT) return file;  // ENOENT: no /proc here, so by name
  }
  return Fd(::openat(scratch, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC | (create ? O_CREAT : 0), 0600));
}

}  // namespace verbd::store
