// The files backend: each resource is a plain file under the root, each
// collection a folder, so that a user can drop index.html there and serve it.
//
// Safety: every path is opened relative to the root's descriptor with
// openat2(RESOLVE_BENEATH), so neither ".." nor a symlink can lead outside
// the root (on kernels without openat2, each segment is opened with
// O_NOFOLLOW instead, which refuses every symlink).
//
// Atomicity: a write goes to a temporary file in the root's scratch folder,
// is made durable (when asked), then renamed over its target; readers see
// the old file or the new one. Durable: a small new version (and a file's
// removal) by a record in the journal (store/journal.hpp), a large one by
// an fsync of its file, and of its folder after the rename. A large request
// body was spooled to an unnamed file in that folder as it arrived: that
// file is named and renamed into place, not copied. An append copies the
// old bytes into the new file first: O(size) per append, in exchange for
// the same all-or-nothing rule.
// Writes to one path are serialised by a striped lock so two appends never
// lose each other's bytes: a mutex between the threads of a process, and a
// lock on a byte of the scratch folder's lock file between processes.
//
// Speed: small resources are read from memory while their file is unchanged
// (store/read_cache.hpp).
#include "common/fd.hpp"
#include "log/log.hpp"
#include "store/byte_lock.hpp"
#include "store/journal.hpp"
#include "store/lock_table.hpp"
#include "store/path.hpp"
#include "store/read_cache.hpp"
#include "store/shared_files.hpp"
#include "store/store.hpp"
#include "store/write_count.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace verbd::store {
namespace {

constexpr const char* media_type_attribute = "user.verbd.media_type";

// Opens `relative` (no leading '/') below `directory`, never leaving it.
// Returns the descriptor, or -1 with errno set.
int open_segment_by_segment(int directory, std::string_view relative, int flags, mode_t mode) {
  Fd current(::fcntl(directory, F_DUPFD_CLOEXEC, 0));
  while (true) {
    auto slash = relative.find('/');
    std::string segment(relative.substr(0, slash));
    if (slash == std::string_view::npos)
      return ::openat(current.get(), segment.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode);
    Fd next(::openat(current.get(), segment.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next.ok()) return -1;
    current = std::move(next);
    relative.remove_prefix(slash + 1);
  }
}

int open_beneath(int directory, std::string_view relative, int flags, mode_t mode = 0) {
  static std::atomic<bool> have_openat2{true};
  std::string name(relative.empty() ? std::string_view(".") : relative);
  if (have_openat2.load(std::memory_order_relaxed)) {
    open_how how{};
    how.flags = static_cast<unsigned>(flags | O_CLOEXEC);
    how.mode = (flags & O_CREAT) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long fd = ::syscall(SYS_openat2, directory, name.c_str(), &how, sizeof how);
    if (fd >= 0 || errno != ENOSYS) return static_cast<int>(fd);
    have_openat2.store(false, std::memory_order_relaxed);
  }
  return open_segment_by_segment(directory, name, flags, mode);
}

Status from_errno(int error, const char* doing, std::string_view path) {
  static auto& log = verbd::log::get("store");
  switch (error) {
    case ENOENT:
    case ENOTDIR:
      return VERBD_NOT_FOUND;
    case EISDIR:
      return VERBD_IS_COLLECTION;
    case EEXIST:
    case ENOTEMPTY:
      return VERBD_EXISTS;
    case EXDEV:  // RESOLVE_BENEATH: the path would leave the root
    case ELOOP:  // a symlink where none may be
      return VERBD_DENIED;
    case EACCES:
    case EPERM:  // the server's own data folder refuses it: a server error, not the client's
      log.error("{} {}: {}: check the permissions of the store's root", doing, path, std::strerror(error));
      return VERBD_IO_ERROR;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      log.warn("{} {}: {}; answered 507, nothing written", doing, path, std::strerror(error));
      return VERBD_NO_SPACE;
    default:
      log.error("{} {}: {}", doing, path, std::strerror(error));
      return VERBD_IO_ERROR;
  }
}

// A step in the scratch folder failed: the folder is verbd's own, so its
// missing (or a name in it taken) is a server error, never the client's
// "not found" or "exists".
Status scratch_failure(int error, const char* doing, std::string_view path) {
  if (error != ENOENT && error != ENOTDIR && error != EEXIST) return from_errno(error, doing, path);
  verbd::log::get("store").error("{} {} in {}: {}", doing, path, reserved_folder, std::strerror(error));
  return VERBD_IO_ERROR;
}

// "a/b/c" -> {"a/b", "c"}; "c" -> {"", "c"}.
std::pair<std::string_view, std::string> split_parent(std::string_view relative) {
  auto slash = relative.rfind('/');
  if (slash == std::string_view::npos) return {{}, std::string(relative)};
  return {relative.substr(0, slash), std::string(relative.substr(slash + 1))};
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Copies `size` bytes of `from`, from its start, to where `to` is, in the
// kernel where it can (copy_file_range), else through a buffer.
bool copy_start(int from, std::uint64_t size, int to) {
  off_t offset = 0;
  bool in_kernel = true;
  while (static_cast<std::uint64_t>(offset) < size) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(size - offset, 1 << 30));
    ssize_t n = -1;
    if (in_kernel) {
      n = ::copy_file_range(from, &offset, to, nullptr, want, 0);
      if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP || errno == ENOSYS)) {
        in_kernel = false;
        continue;
      }
    } else {
      char buffer[64 * 1024];
      n = ::pread(from, buffer, std::min(want, sizeof buffer), offset);
      if (n > 0 && !write_all(to, std::string_view(buffer, static_cast<std::size_t>(n)))) return false;
      if (n > 0) offset += n;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // a failure, or the file is shorter than it was said to be
  }
  return true;
}

// Copies all of `from`, as copy_start() does.
bool copy_all(int from, int to) {
  struct stat st {};
  return ::fstat(from, &st) == 0 && copy_start(from, static_cast<std::uint64_t>(st.st_size), to);
}

std::string media_type_of(int fd, std::string_view path) {
  char buffer[VERBD_MEDIA_TYPE_CAPACITY];
  ssize_t n = ::fgetxattr(fd, media_type_attribute, buffer, sizeof buffer - 1);
  if (n > 0) return std::string(buffer, static_cast<std::size_t>(n));
  return std::string(guess_media_type(path));
}

// Dead properties are kept in one extended attribute of the file or
// folder, so that a rename moves them and an unlink removes them with it:
// "name\0value\0" for each, in name order (XML holds no NUL).
constexpr const char* properties_attribute = "user.verbd.properties";

Properties decode_properties(std::string_view bytes) {
  Properties properties;
  while (!bytes.empty()) {
    auto name_end = bytes.find('\0');
    if (name_end == std::string_view::npos) break;
    auto value_end = bytes.find('\0', name_end + 1);
    if (value_end == std::string_view::npos) break;
    properties.emplace(bytes.substr(0, name_end), bytes.substr(name_end + 1, value_end - name_end - 1));
    bytes.remove_prefix(value_end + 1);
  }
  return properties;
}

std::string encode_properties(const Properties& properties) {
  std::string bytes;
  for (const auto& [name, value] : properties)
    bytes.append(name).append(1, '\0').append(value).append(1, '\0');
  return bytes;
}

// The attribute's bytes; empty when it is absent. -1 with errno on failure.
int read_attribute(int fd, const char* name, std::string& bytes) {
  bytes.clear();
  while (true) {
    ssize_t size = ::fgetxattr(fd, name, nullptr, 0);
    if (size < 0) return errno == ENODATA || errno == ENOTSUP ? 0 : -1;
    bytes.resize(static_cast<std::size_t>(size));
    ssize_t got = ::fgetxattr(fd, name, bytes.data(), bytes.size());
    if (got >= 0) {
      bytes.resize(static_cast<std::size_t>(got));
      return 0;
    }
    if (errno != ERANGE) return -1;  // ERANGE: it grew meanwhile
  }
}

// When a resource was first made. A write replaces its file with a new one,
// born then, so from the first replacement on the time is kept in an
// attribute; until then it is the file's birth time, where the filesystem
// records one (0 where it does not).
constexpr const char* created_attribute = "user.verbd.created";

std::int64_t created_of(int fd) {
  char text[24] = {};
  ssize_t n = ::fgetxattr(fd, created_attribute, text, sizeof text - 1);
  std::int64_t seconds = 0;
  if (n > 0 && std::from_chars(text, text + n, seconds).ec == std::errc{}) return seconds;
  struct statx about {};
  if (::statx(fd, "", AT_EMPTY_PATH, STATX_BTIME, &about) != 0 || !(about.stx_mask & STATX_BTIME)) return 0;
  return about.stx_btime.tv_sec;
}

// The folder open as `fd`, as the journal tells one from another.
bool identify_folder(int fd, Journal::Folder& folder) {
  struct statx about {};
  if (::statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_BTIME, &about) != 0) return false;
  std::uint64_t born =
      static_cast<std::uint64_t>(about.stx_btime.tv_sec) * 1'000'000'000u + about.stx_btime.tv_nsec;
  folder = {about.stx_ino, about.stx_mask & STATX_BTIME ? born : 0};
  return true;
}

// Copies one attribute, when there is one, from a file or folder to another.
bool copy_attribute(int from, int to, const char* name) {
  std::string bytes;
  if (read_attribute(from, name, bytes) != 0) return false;
  return bytes.empty() || ::fsetxattr(to, name, bytes.data(), bytes.size(), 0) == 0;
}

// Copies the attributes verbd keeps (media type, properties) from one file or folder to another.
bool copy_attributes(int from, int to) {
  return copy_attribute(from, to, media_type_attribute) && copy_attribute(from, to, properties_attribute);
}

void fill_resource(const struct stat& st, std::string_view media_type, Entry& entry) {
  entry.kind = VERBD_ENTRY_RESOURCE;
  entry.size = static_cast<std::uint64_t>(st.st_size);
  entry.modified_unix = st.st_mtim.tv_sec;
  // Inode, size and nanosecond mtime: every rename brings a new inode, so
  // two versions never share an ETag.
  char etag[VERBD_ETAG_CAPACITY];
  char* end = etag + sizeof etag - 1;
  char* at = etag;
  *at++ = '"';
  at = std::to_chars(at, end, static_cast<std::uint64_t>(st.st_ino), 16).ptr;
  *at++ = '-';
  at = std::to_chars(at, end, static_cast<std::uint64_t>(st.st_size), 16).ptr;
  *at++ = '-';
  at = std::to_chars(at, end,
                     static_cast<std::uint64_t>(st.st_mtim.tv_sec * 1000000000L + st.st_mtim.tv_nsec), 16)
           .ptr;
  *at++ = '"';
  copy_field(entry.etag, std::string_view(etag, static_cast<std::size_t>(at - etag)));
  copy_field(entry.media_type, media_type);
}

// Removes `name` below `directory`, and everything in it when it is a folder.
// The names in the folder open as `folder`, but "." and "..". It reads
// through a copy of the descriptor, which closedir() closes.
std::vector<std::string> names_in(int folder) {
  std::vector<std::string> names;
  int copy = ::fcntl(folder, F_DUPFD_CLOEXEC, 0);
  DIR* stream = copy >= 0 ? ::fdopendir(copy) : nullptr;
  if (stream == nullptr) {
    if (copy >= 0) ::close(copy);
    return names;
  }
  while (dirent* item = ::readdir(stream))
    if (std::strcmp(item->d_name, ".") != 0 && std::strcmp(item->d_name, "..") != 0)
      names.emplace_back(item->d_name);
  ::closedir(stream);
  return names;
}

void remove_tree(int directory, const std::string& name) {
  if (::unlinkat(directory, name.c_str(), 0) == 0 || errno != EISDIR) return;
  Fd folder(::openat(directory, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (folder.ok())
    for (const auto& member : names_in(folder.get())) remove_tree(folder.get(), member);
  ::unlinkat(directory, name.c_str(), AT_REMOVEDIR);
}

// The scratch folder, `root/.verbd-tmp/`: made again when someone removed
// it while verbd runs, since a removed folder takes no new entries and every
// write would fail. Looked at only when a step in it failed (a look at the
// folder on every write slows durable writes measurably). An operation
// uses one descriptor throughout; a folder replaced meanwhile stays open
// until the store goes.
class ScratchFolder {
 public:
  ScratchFolder(int root, std::filesystem::path path) : root_(root), path_(std::move(path)) {
    Fd folder = open();
    if (!folder.ok()) throw std::runtime_error("cannot use " + path_.string() + ": " + std::strerror(errno));
    current_ = folder.get();
    folders_.push_back(std::move(folder));
  }

  int get() const noexcept { return current_.load(std::memory_order_acquire); }

  // After a step in `used` failed with ENOENT: the folder to take it again
  // in, or `used` when it was not removed (the step failed for another
  // reason). errno is kept.
  int made_again(int used) {
    int error = errno;
    int folder = made_again_if_removed(used);
    errno = error;
    return folder;
  }

 private:
  Fd open() const {
    ::mkdirat(root_, path_.filename().c_str(), 0700);
    return Fd(::openat(root_, path_.filename().c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  }

  int made_again_if_removed(int used) {
    std::lock_guard lock(mutex_);
    if (int now = current_.load(std::memory_order_relaxed); now != used) return now;  // another thread did
    struct stat about {};
    if (::fstat(used, &about) != 0 || about.st_nlink > 0) return used;
    Fd folder = open();
    if (!folder.ok()) {
      verbd::log::get("store").error("{} was removed while verbd ran, and cannot be made again: {}",
                                     path_.string(), std::strerror(errno));
      return used;
    }
    verbd::log::get("store").warn("{} was removed while verbd ran: made again", path_.string());
    int made = folder.get();
    folders_.push_back(std::move(folder));
    current_.store(made, std::memory_order_release);
    return made;
  }

  int root_;
  std::filesystem::path path_;
  std::mutex mutex_;
  std::atomic<int> current_{-1};
  std::vector<Fd> folders_;  // all made: threads may still be using the earlier ones
};

class FilesStore final : public Store {
 public:
  explicit FilesStore(const FilesOptions& options)
      : fsync_(options.fsync),
        journaling_(options.fsync),
        root_(open_root(options.root)),
        scratch_(root_.get(), options.root / reserved_folder),
        shared_folder_(shared_folder(root_.get(), scratch_.get())),
        writes_(shared_folder_),
        cache_(writes_, options.recheck),
        journal_(shared_folder_) {
    if (options.clear_scratch) clear_scratch();
    // Opened by each process itself: locks taken through two different
    // opens of the file exclude each other, through one they do not.
    locks_ = open_shared_file(shared_folder_, path_locks_file, true);
    if (!locks_.ok())
      throw std::runtime_error("cannot use " + (options.root / reserved_folder / path_locks_file).string() +
                               ": " + std::strerror(errno));
    dav_locks_ = std::make_unique<LockTable>(shared_folder_);
    if (options.clear_scratch) replay_journal();
  }

  Status stat(std::string_view path, Entry& entry) override {
    entry = Entry{};
    Fd fd;
    if (Status status = open_existing(path, fd); status != VERBD_OK) return status;
    Status status = describe(fd.get(), path, entry);
    if (status == VERBD_OK) entry.created_unix = created_of(fd.get());
    return status;
  }

  Status read(std::string_view path, std::string* bytes, Entry& entry) override {
    return load(path, bytes, nullptr, entry);
  }

  Status read_for_sending(std::string_view path, std::string& bytes, Fd& file, Entry& entry) override {
    return load(path, &bytes, &file, entry);
  }

  Status write(const Write& write, Entry& entry, bool& created) override {
    entry = Entry{};
    if (!is_store_path(write.path) || relative(write.path).empty()) return VERBD_BAD_ARGUMENT;
    if (names_collection(write.path)) return VERBD_IS_COLLECTION;
    if (!write.media_type.empty() && !is_storable_media_type(write.media_type)) return VERBD_BAD_ARGUMENT;
    // Refused before it is made: a large write is marked made durable only
    // after its rename, which a broken journal would refuse.
    if (journaling() && journal_.broken()) return from_errno(EIO, "write", write.path);
    CountedChange counted(writes_);
    StripeLock lock(*this, write.path);
    auto [parent_path, name] = split_parent(relative(write.path));
    Fd parent;
    if (Status status = open_parents(parent_path, parent); status != VERBD_OK) return status;

    struct stat existing {};
    created = ::fstatat(parent.get(), name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) != 0;
    if (created && errno != ENOENT) return from_errno(errno, "stat", write.path);
    if (!created && S_ISDIR(existing.st_mode)) return VERBD_IS_COLLECTION;
    if (!created && write.mode == WriteMode::create) return VERBD_EXISTS;
    if (!created && !S_ISREG(existing.st_mode)) return VERBD_DENIED;  // a symlink or a device

    Fd old;
    if (!created) {
      old = Fd(::openat(parent.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (!old.ok()) return from_errno(errno, "open", write.path);
    }
    std::string joined;
    std::optional<std::string_view> version = journaled_version(write, old, joined);
    std::string media_type(write.media_type);
    if (media_type.empty())
      media_type =
          old.ok() ? media_type_of(old.get(), write.path) : std::string(guess_media_type(write.path));
    Status status = replace({parent.get(), parent_path, name}, write, old, media_type, version, entry);
    if (status == VERBD_OK && journaling() && !version) status = mark_made_durable(parent.get(), write.path);
    if (version && journal_.full()) journal_.settle();  // a failure is logged; this write is durable
    return status;
  }

  // In the scratch folder, so that write() can link it into place. A
  // filesystem without O_TMPFILE gets one in the temporary folder, copied.
  Fd open_spool() override {
    Fd file;
    int folder;
    in_scratch(folder, [&](int scratch) {
      file = Fd(::openat(scratch, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0644));
      return file.ok();
    });
    return file.ok() || errno != EOPNOTSUPP ? std::move(file) : Store::open_spool();
  }

  Status remove(std::string_view path) override {
    if (!is_store_path(path)) return VERBD_BAD_ARGUMENT;
    if (relative(path).empty()) return empty_root();
    CountedChange counted(writes_);
    StripeLock lock(*this, path);
    auto [parent_path, name] = split_parent(relative(path));
    Fd parent(open_beneath(root_.get(), parent_path, O_RDONLY | O_DIRECTORY));
    if (!parent.ok()) return from_errno(errno, "open", path);
    struct stat st {};
    if (::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return from_errno(errno, "stat", path);
    if (names_collection(path) && !S_ISDIR(st.st_mode)) return VERBD_NOT_FOUND;
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) return VERBD_DENIED;  // a symlink or a device
    Status status = S_ISDIR(st.st_mode) ? remove_collection(parent.get(), name, path)
                                        : remove_file(parent.get(), parent_path, name, path);
    if (status == VERBD_OK) dav_locks_->forget(path);
    return status;
  }

  Status list(std::string_view path, std::string& lines) override {
    if (!is_store_path(path)) return VERBD_BAD_ARGUMENT;
    Fd folder(open_beneath(root_.get(), relative(path), O_RDONLY | O_DIRECTORY));
    if (!folder.ok()) return from_errno(errno, "open", path);
    std::vector<std::string> members = list_members(folder.get(), relative(path).empty());
    if (!still_at(folder.get(), relative(path))) return VERBD_NOT_FOUND;  // a DELETE won the race
    for (const auto& member : members) lines.append(member).append("\n");
    return VERBD_OK;
  }

  Status make_collection(std::string_view path) override {
    if (!is_store_path(path) || !names_collection(path) || relative(path).empty()) return VERBD_BAD_ARGUMENT;
    auto [parent_path, name] = split_parent(relative(path));
    Fd parent;
    if (Status status = open_parent(parent_path, parent); status != VERBD_OK) return status;
    CountedChange counted(writes_);
    if (::mkdirat(parent.get(), name.c_str(), 0755) != 0) return from_errno(errno, "mkdir", path);
    sync_directory(parent.get());
    return VERBD_OK;
  }

  // A copy is made whole in the scratch folder, then renamed into place;
  // a move is one rename. What is at `to` and must go is renamed away first.
  Status transfer(std::string_view from, std::string_view to, std::uint32_t flags, bool move,
                  bool& created) override {
    if (!is_store_path(from) || !is_store_path(to) || relative(from).empty() || relative(to).empty() ||
        names_collection(from) != names_collection(to) || detail::is_within(to, from) ||
        detail::is_within(from, to))
      return VERBD_BAD_ARGUMENT;
    CountedChange counted(writes_);
    std::size_t from_stripe = stripe_of(from), to_stripe = stripe_of(to);
    StripeLock first_lock(*this, std::min(from_stripe, to_stripe));
    std::optional<StripeLock> second_lock;
    if (from_stripe != to_stripe) second_lock.emplace(*this, std::max(from_stripe, to_stripe));
    auto [source_path, source_name] = split_parent(relative(from));
    auto [target_path, target_name] = split_parent(relative(to));
    Fd source_parent(open_beneath(root_.get(), source_path, O_RDONLY | O_DIRECTORY));
    struct stat source {};
    if (!source_parent.ok() ||
        ::fstatat(source_parent.get(), source_name.c_str(), &source, AT_SYMLINK_NOFOLLOW) != 0)
      return from_errno(errno, "stat", from);
    if (!S_ISDIR(source.st_mode) && !S_ISREG(source.st_mode)) return VERBD_DENIED;
    if (S_ISDIR(source.st_mode) != names_collection(from)) return VERBD_NOT_FOUND;
    Fd target_parent;
    if (Status status = open_parent(target_path, target_parent); status != VERBD_OK) return status;
    struct stat existing {};
    created = ::fstatat(target_parent.get(), target_name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) != 0;
    if (!created && !(flags & VERBD_TRANSFER_OVERWRITE)) return VERBD_EXISTS;
    bool files_only = S_ISREG(source.st_mode) && (created || S_ISREG(existing.st_mode));
    Target source_at{source_parent.get(), source_path, source_name};
    Target target_at{target_parent.get(), target_path, target_name};
    // A move or copy made durable by its records: the journal's mark from before them.
    std::optional<std::uint64_t> recorded;
    Status journaled = files_only ? record_transfer(source_at, from, move, target_at, to, created, recorded)
                                  : settle_journal();
    if (journaled != VERBD_OK) return journaled;

    std::string made;  // the copy, in the scratch folder `made_in`
    int made_in = -1;
    if (!move) {
      made = scratch_name();
      Fd source_fd(::openat(source_parent.get(), source_name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (!source_fd.ok()) return from_errno(errno, "copy", from);
      bool copied = in_scratch(made_in, [&](int scratch) {
        return copy_node(scratch, source_fd.get(), made, flags & VERBD_TRANSFER_SHALLOW, !recorded);
      });
      if (!copied) {
        int error = errno;
        remove_tree(made_in, made);
        return scratch_step_failure(error, made_in, "copy", from);
      }
    }
    int from_folder = move ? source_parent.get() : made_in;
    std::string from_name = move ? source_name : made;
    // A file over a file is replaced in one rename; anything else over
    // something is renamed away first, to the scratch folder `doomed_in`.
    std::string doomed;
    int doomed_in = -1;
    if (!created && (S_ISDIR(existing.st_mode) || S_ISDIR(source.st_mode))) {
      doomed = scratch_name();
      if (!rename_to_scratch(target_parent.get(), target_name, doomed, doomed_in))
        return scratch_step_failure(errno, doomed_in, "rename", to);
    }
    int rename_flags = created ? RENAME_NOREPLACE : 0;
    if (::renameat2(from_folder, from_name.c_str(), target_parent.get(), target_name.c_str(), rename_flags) !=
        0) {
      int error = errno;
      if (!move) remove_tree(made_in, made);
      if (recorded) settle_journal();  // so that no replay makes this move or copy after all
      return from_errno(error, "rename", to);
    }
    if (!doomed.empty()) remove_tree(doomed_in, doomed);
    bool durable = recorded && durable_by_record(*recorded, target_parent.get(), target_path) &&
                   (!move || still_at(source_parent.get(), source_path));
    if (!durable) {
      if (recorded) fsync_file(target_parent.get(), target_name);
      sync_directory(target_parent.get());
      if (move) sync_directory(source_parent.get());
    }
    if (move) dav_locks_->forget(from);
    // The records of writes into the collection just moved name paths it
    // no longer has, so a replay would skip them: settled now, their files
    // are durable where they went.
    return move && S_ISDIR(source.st_mode) ? settle_journal() : VERBD_OK;
  }

  Status properties(std::string_view path, Properties& properties) override {
    Fd fd;
    if (Status status = open_existing_any(path, fd); status != VERBD_OK) return status;
    std::string bytes;
    if (read_attribute(fd.get(), properties_attribute, bytes) != 0)
      return from_errno(errno, "getxattr", path);
    properties = decode_properties(bytes);
    return VERBD_OK;
  }

  Status change_properties(std::string_view path, std::span<const PropertyChange> changes) override {
    // No settle and no record: the file is fsync'ed below, bytes and
    // attributes, and a replay of an earlier record of the path writes the
    // same bytes and keeps the attributes of the file it replaces.
    CountedChange counted(writes_);
    StripeLock lock(*this, path);
    Fd fd;
    if (Status status = open_existing_any(path, fd); status != VERBD_OK) return status;
    std::string bytes;
    if (read_attribute(fd.get(), properties_attribute, bytes) != 0)
      return from_errno(errno, "getxattr", path);
    Properties properties = decode_properties(bytes);
    for (const auto& change : changes) {
      if (!detail::is_property_name(change.name)) return VERBD_BAD_ARGUMENT;
      if (change.remove)
        properties.erase(std::string(change.name));
      else
        properties[std::string(change.name)] = change.value;
    }
    bytes = encode_properties(properties);
    if (bytes.size() > detail::max_property_bytes) return VERBD_NO_SPACE;
    int result = bytes.empty() ? ::fremovexattr(fd.get(), properties_attribute)
                               : ::fsetxattr(fd.get(), properties_attribute, bytes.data(), bytes.size(), 0);
    if (result != 0 && !(bytes.empty() && errno == ENODATA))
      return errno == E2BIG || errno == ENOSPC ? VERBD_NO_SPACE : from_errno(errno, "setxattr", path);
    if (fsync_) ::fsync(fd.get());
    return VERBD_OK;
  }

  LockTable& locks() override { return *dav_locks_; }

 private:
  // A resource or a collection, however the path names it ("/a" for the
  // collection "/a/" too).
  Status open_existing_any(std::string_view path, Fd& fd) {
    if (!is_store_path(path)) return VERBD_BAD_ARGUMENT;
    fd = Fd(open_beneath(root_.get(), relative(path), O_RDONLY | O_NONBLOCK));
    return fd.ok() ? VERBD_OK : from_errno(errno, "open", path);
  }

  // The existing collection that holds a new member: VERBD_NO_PARENT when there is none.
  Status open_parent(std::string_view relative_path, Fd& parent) {
    parent = Fd(open_beneath(root_.get(), relative_path, O_RDONLY | O_DIRECTORY));
    if (parent.ok()) return VERBD_OK;
    return errno == ENOENT || errno == ENOTDIR ? VERBD_NO_PARENT : from_errno(errno, "open", relative_path);
  }

  // Copies the file or folder open as `from` to `name` in the scratch
  // folder open as `scratch`: bytes, attributes, and (unless `shallow`)
  // members; fsync'ed when the store fsyncs and `sync`, which is false for
  // a file whose copy the journal records.
  bool copy_node(int scratch, int from, const std::string& name, bool shallow, bool sync) {
    struct stat st {};
    if (::fstat(from, &st) != 0) return false;
    if (S_ISREG(st.st_mode)) {
      Fd to(::openat(scratch, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
      return to.ok() && copy_all(from, to.get()) && copy_attributes(from, to.get()) &&
             (!fsync_ || !sync || ::fsync(to.get()) == 0);
    }
    if (!S_ISDIR(st.st_mode) || ::mkdirat(scratch, name.c_str(), 0755) != 0) return false;
    Fd folder(::openat(scratch, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!folder.ok() || !copy_attributes(from, folder.get())) return false;
    if (shallow) return true;
    for (const auto& member : list_members(from, false)) {
      std::string bare = member.back() == '/' ? member.substr(0, member.size() - 1) : member;
      Fd child(::openat(from, bare.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      std::string inner = name + "/" + bare;
      if (!child.ok() || !copy_node(scratch, child.get(), inner, false, sync)) return false;
    }
    if (fsync_) ::fsync(folder.get());
    return true;
  }

  // read() and read_for_sending(): small resources from the read cache when
  // it has them; a large one as its open file when `file` is given.
  Status load(std::string_view path, std::string* bytes, Fd* file, Entry& entry) {
    entry = Entry{};
    if (bytes != nullptr && is_store_path(path) && cache_.find(root_.get(), relative(path), *bytes, entry))
      return VERBD_OK;
    Fd fd;
    if (Status status = open_existing(path, fd); status != VERBD_OK) return status;
    struct stat st {};
    if (Status status = describe(fd.get(), path, entry, &st); status != VERBD_OK) return status;
    if (entry.kind == VERBD_ENTRY_COLLECTION) return VERBD_IS_COLLECTION;
    if (bytes == nullptr) return VERBD_OK;
    if (file != nullptr && entry.size > send_from_file_bytes) {
      *file = std::move(fd);
      return VERBD_OK;
    }
    auto start = bytes->size();
    Status status = read_bytes(fd.get(), path, entry.size, *bytes);
    if (status == VERBD_OK) cache_.keep(relative(path), st, std::string_view(*bytes).substr(start), entry);
    return status;
  }

  // Is the folder open as `fd` still the one at `relative`? A DELETE renames
  // a collection away before emptying it, so a listing read from a folder
  // that has moved may be partial: the delete happened first, as it were.
  bool still_at(int fd, std::string_view relative_path) const {
    Fd again(open_beneath(root_.get(), relative_path, O_RDONLY | O_DIRECTORY));
    struct stat listed {
    }, now{};
    return again.ok() && ::fstat(fd, &listed) == 0 && ::fstat(again.get(), &now) == 0 &&
           listed.st_ino == now.st_ino && listed.st_dev == now.st_dev;
  }

  Status open_existing(std::string_view path, Fd& fd) {
    if (!is_store_path(path)) return VERBD_BAD_ARGUMENT;
    int flags = O_RDONLY | O_NONBLOCK | (names_collection(path) ? O_DIRECTORY : 0);
    fd = Fd(open_beneath(root_.get(), relative(path), flags));
    return fd.ok() ? VERBD_OK : from_errno(errno, "open", path);
  }

  static Status describe(int fd, std::string_view path, Entry& entry, struct stat* described = nullptr) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return from_errno(errno, "stat", path);
    if (described != nullptr) *described = st;
    if (S_ISDIR(st.st_mode)) {
      entry.kind = VERBD_ENTRY_COLLECTION;
      entry.modified_unix = st.st_mtim.tv_sec;
      return VERBD_OK;
    }
    if (!S_ISREG(st.st_mode)) return VERBD_DENIED;
    fill_resource(st, media_type_of(fd, path), entry);
    return VERBD_OK;
  }

  static Status read_bytes(int fd, std::string_view path, std::uint64_t size, std::string& bytes) {
    int error = append_file_start(fd, size, bytes);
    return error == 0 ? VERBD_OK : from_errno(error, "read", path);
  }

  // Opens the folder `relative` below the root, creating what is missing.
  Status open_parents(std::string_view relative_path, Fd& parent) {
    parent = Fd(open_beneath(root_.get(), relative_path, O_RDONLY | O_DIRECTORY));
    if (parent.ok()) return VERBD_OK;
    if (errno != ENOENT)
      return errno == ENOTDIR ? VERBD_NOT_COLLECTION : from_errno(errno, "open", relative_path);
    Fd current(::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0));
    while (!relative_path.empty()) {
      auto slash = relative_path.find('/');
      std::string segment(relative_path.substr(0, slash));
      bool made = ::mkdirat(current.get(), segment.c_str(), 0755) == 0;
      Fd next(open_beneath(current.get(), segment, O_RDONLY | O_DIRECTORY));
      if (!next.ok()) return errno == ENOTDIR ? VERBD_NOT_COLLECTION : from_errno(errno, "mkdir", segment);
      if (made) sync_directory(current.get());
      current = std::move(next);
      relative_path = slash == std::string_view::npos ? std::string_view{} : relative_path.substr(slash + 1);
    }
    parent = std::move(current);
    return VERBD_OK;
  }

  // The whole new version a write's record will hold, when the journal
  // records it: the body, or an append's old bytes and new (in `joined`),
  // while that is small. None when its file is to be fsync'ed instead.
  std::optional<std::string_view> journaled_version(const Write& write, const Fd& old, std::string& joined) {
    if (!journaling() || write.body_file != nullptr || write.body.size() > Journal::body_limit) return {};
    if (write.mode != WriteMode::append || !old.ok()) return write.body;
    struct stat st {};
    if (::fstat(old.get(), &st) != 0 || write.body.size() + std::uint64_t(st.st_size) > Journal::body_limit ||
        append_file_start(old.get(), std::uint64_t(st.st_size), joined) != 0 ||
        joined.size() + write.body.size() > Journal::body_limit)
      return {};
    return joined.append(write.body);
  }

  // Where a write renames its new version: the folder, open, its path
  // relative to the root, and the name in it.
  struct Target {
    int folder;
    std::string_view folder_path;
    const std::string& name;
  };

  // Writes the new version in the scratch folder and renames it into
  // place. Durable by its record when `version` is given (journaled_version).
  Status replace(const Target& target, const Write& write, const Fd& old, const std::string& media_type,
                 std::optional<std::string_view> version, Entry& entry) {
    bool journaled = version.has_value();
    std::string temporary = scratch_name();
    Fd file;
    bool file_adopted = false;
    int scratch;
    in_scratch(scratch, [&](int folder) {
      file_adopted = adopt(write, folder, temporary, file);
      if (!file_adopted)
        file = Fd(::openat(folder, temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
      return file.ok();
    });
    bool written = file_adopted;
    if (!written) {
      if (!file.ok()) return scratch_failure(errno, "create", write.path);
      written = journaled
                    ? write_all(file.get(), *version)
                    : (write.mode != WriteMode::append || !old.ok() || copy_all(old.get(), file.get())) &&
                          (write.body_file != nullptr
                               ? copy_start(write.body_file->fd, write.body_file->size, file.get())
                               : write_all(file.get(), write.body));
    }
    // Without xattr support (some filesystems) the type is guessed on read.
    if (written) ::fsetxattr(file.get(), media_type_attribute, media_type.data(), media_type.size(), 0);
    // A PUT replaces the bytes, not the dead properties (RFC 4918 §9.7.1)
    // nor the time the resource was made.
    if (written && old.ok()) written = keep_properties(old.get(), file.get(), write.path);
    struct stat st {};
    written = written && (journaled || !fsync_ || ::fsync(file.get()) == 0) && ::fstat(file.get(), &st) == 0;
    std::uint64_t mark = 0;
    bool recorded =
        written && journaled &&
        journal_write(Journal::Change::write, target.folder, write.path, media_type, *version, mark) &&
        (!journal_.settled_since(mark) || ::fsync(file.get()) == 0);
    written = written && (recorded || !journaled);
    int flags = write.mode == WriteMode::create ? RENAME_NOREPLACE : 0;
    if (!written || ::renameat2(scratch, temporary.c_str(), target.folder, target.name.c_str(), flags) != 0) {
      int error = errno;
      ::unlinkat(scratch, temporary.c_str(), 0);
      if (recorded) settle_journal();  // so that no replay makes this write after all
      return from_errno(error, "write", write.path);
    }
    if (!journaled) {
      sync_directory(target.folder);
    } else if (!durable_by_record(mark, target.folder, target.folder_path)) {
      ::fsync(file.get());
      sync_directory(target.folder);
    }
    if (write.body_file != nullptr && file_adopted) write.body_file->adopted = true;
    fill_resource(st, media_type, entry);
    return VERBD_OK;
  }

  // A spooled body made the new version without copying a byte: its
  // unnamed file is given the name `temporary` in `scratch` (linkat through
  // /proc, which needs no privilege, unlike AT_EMPTY_PATH). Not when the
  // version must start with the old bytes, when it was adopted before, or
  // when it lies on another filesystem; then it is copied.
  bool adopt(const Write& write, int scratch, const std::string& temporary, Fd& file) {
    if (write.body_file == nullptr || write.body_file->adopted || write.mode == WriteMode::append)
      return false;
    std::string link = "/proc/self/fd/" + std::to_string(write.body_file->fd);
    if (::linkat(AT_FDCWD, link.c_str(), scratch, temporary.c_str(), AT_SYMLINK_FOLLOW) != 0) return false;
    file = Fd(::fcntl(write.body_file->fd, F_DUPFD_CLOEXEC, 0));
    if (file.ok()) return true;
    ::unlinkat(scratch, temporary.c_str(), 0);
    return false;
  }

  // Appends the record of a change to `path` in `folder`, from which a
  // replay makes it again; `mark`: the journal's, from before. When a
  // settle ran meanwhile (settled_since), which may have emptied the
  // journal of it, a new version's file is fsync'ed before its name is given.
  bool journal_write(Journal::Change change, int folder, std::string_view path, std::string_view media_type,
                     std::string_view version, std::uint64_t& mark) {
    Journal::Folder in;
    if (!identify_folder(folder, in)) return false;
    mark = journal_.mark();
    return journal_.append({{change, path, media_type, version, in, stripe_of(path)}});
  }

  // Whether a change journaled after `mark` in `folder` (at `folder_path`)
  // is durable by its record: not when a settle may have emptied the
  // journal of it, nor when its folder has moved, so that a replay would
  // skip it. The caller fsyncs then, as without a journal.
  bool durable_by_record(std::uint64_t mark, int folder, std::string_view folder_path) const {
    return !journal_.settled_since(mark) && still_at(folder, folder_path);
  }

  // After a write made durable in its file, without a record of its bytes:
  // a record says so, so that a replay never makes an earlier version of
  // the path again over it. After the write, not before: a crash between
  // the two leaves the earlier version, which was acknowledged, not one
  // whose bytes may be lost.
  Status mark_made_durable(int folder, std::string_view path) {
    if (!journal_.may_hold_records_in(stripe_of(path))) return VERBD_OK;  // no earlier record to undo
    std::uint64_t mark = 0;
    if (journal_write(Journal::Change::made_durable, folder, path, {}, {}, mark)) return VERBD_OK;
    return settle_journal();
  }

  // A small file moved or copied over a file or nothing: the new path's
  // whole version is recorded with its dead properties and creation time
  // (a copy's is now), and for a move the old path's removal, in one
  // append, so that neither the file nor its folders need an fsync. `mark`
  // is set when it was; a larger file goes as journal_transfer() says.
  Status record_transfer(const Target& source, std::string_view from, bool move, const Target& target,
                         std::string_view to, bool target_missing, std::optional<std::uint64_t>& mark) {
    if (!journaling()) return VERBD_OK;
    Fd file(::openat(source.folder, source.name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st {};
    if (!file.ok() || ::fstat(file.get(), &st) != 0) return from_errno(errno, "open", from);
    std::string version, properties;
    Journal::Folder out_of, into;
    if (std::uint64_t(st.st_size) > Journal::body_limit ||
        append_file_start(file.get(), std::uint64_t(st.st_size), version) != 0 ||
        read_attribute(file.get(), properties_attribute, properties) != 0 ||
        (move && !identify_folder(source.folder, out_of)) || !identify_folder(target.folder, into))
      return journal_transfer(source, from, move, target, to, target_missing);
    std::string media_type = media_type_of(file.get(), to);
    std::int64_t created = move ? created_of(file.get()) : std::int64_t(::time(nullptr));
    Journal::Appended made{
        Journal::Change::transferred_in, to, media_type, version, into, stripe_of(to), properties, created};
    Journal::Appended removed{Journal::Change::remove, from, {}, {}, out_of, stripe_of(from)};
    std::uint64_t before = journal_.mark();
    if (!(move ? journal_.append({made, removed}) : journal_.append({made})))
      return from_errno(errno, "journal", from);
    mark = before;
    return VERBD_OK;
  }

  // False, with errno set, when the file `name` in `folder` could not be fsync'ed.
  static bool fsync_file(int folder, const std::string& name) {
    Fd file(::openat(folder, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    return file.ok() && ::fsync(file.get()) == 0;
  }

  // A file moved or copied over a file or nothing: the journal's earlier
  // records of the two paths (the source's only for a move) must not be
  // made again over it. Each path whose stripe may hold one gets a record
  // that says it was made durable in place, so that a replay leaves it as
  // it is on disk; the file at it is fsync'ed first, so that it is durable
  // whether the rename that follows reaches the disk or not. Cheaper than
  // a settle, which would make every file of the filesystem durable.
  Status journal_transfer(const Target& source, std::string_view from, bool move, const Target& target,
                          std::string_view to, bool target_missing) {
    if (!journaling()) return VERBD_OK;
    auto mark_side = [&](const Target& side, std::string_view path, bool exists) -> Status {
      if (!journal_.may_hold_records_in(stripe_of(path))) return VERBD_OK;
      if (exists && !fsync_file(side.folder, side.name)) return from_errno(errno, "fsync", path);
      std::uint64_t mark = 0;
      return journal_write(Journal::Change::made_durable, side.folder, path, {}, {}, mark) ? VERBD_OK
                                                                                           : settle_journal();
    };
    if (move)
      if (Status status = mark_side(source, from, true); status != VERBD_OK) return status;
    return mark_side(target, to, !target_missing);
  }

  // Before a change the journal does not describe: its records are made
  // durable in their files and dropped, so that a replay never makes one
  // of them again over this change.
  Status settle_journal() {
    if (!journaling() || !journal_.holds_records() || journal_.settle()) return VERBD_OK;
    return VERBD_IO_ERROR;  // logged by settle()
  }

  // At a start, before the workers: the changes whose records a crash left
  // in the journal are made again, the last of each path, where the folder
  // it went into is still at its path. Without an fsync each: the journal
  // is emptied only once a syncfs has made them all durable, and a crash
  // before that makes them again at the next start.
  void replay_journal() {
    std::uint64_t torn = 0;
    auto records = journal_.records(torn);
    auto& log = verbd::log::get("store");
    std::string name = std::string(reserved_folder) + "/" + Journal::file_name;
    if (torn > 0)
      log.warn(
          "the journal {} ends in {} bytes that are no whole record (a write a crash cut short, "
          "never acknowledged): left out",
          name, torn);
    std::map<std::string_view, std::size_t> last;  // of each path
    for (std::size_t i = 0; i < records.size(); ++i) last[records[i].path] = i;
    std::size_t made = 0;
    journaling_ = false;
    bool fsync = std::exchange(fsync_, false);
    for (std::size_t i = 0; i < records.size(); ++i)
      if (last[records[i].path] == i) made += make_again(records[i]) ? 1 : 0;
    fsync_ = fsync;
    journaling_ = fsync;
    if (!records.empty())
      log.info("replayed the journal {}: {} records of {} paths, the last of each made again{}", name,
               records.size(), last.size(),
               made == last.size()
                   ? ""
                   : fmt::format(" but {} (their folders were moved or removed since)", last.size() - made));
    if (!journal_.empty_out())
      throw std::runtime_error("cannot settle the store's journal " + name + ": " + std::strerror(errno));
  }

  bool make_again(const Journal::Record& record) {
    if (!is_store_path(record.path) || relative(record.path).empty()) return false;
    auto [parent_path, name] = split_parent(relative(record.path));
    Fd parent(open_beneath(root_.get(), parent_path, O_RDONLY | O_DIRECTORY));
    Journal::Folder folder;
    if (!parent.ok() || !identify_folder(parent.get(), folder) || folder != record.folder) return false;
    if (record.change == Journal::Change::made_durable) return true;
    if (record.change == Journal::Change::remove) {
      struct stat st {};
      if (::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return errno == ENOENT;
      if (!S_ISREG(st.st_mode)) return false;  // a collection made there since
      return ::unlinkat(parent.get(), name.c_str(), 0) == 0;
    }
    Entry entry;
    bool created = false;
    if (write({record.path, record.version, record.media_type, WriteMode::replace}, entry, created) !=
        VERBD_OK)
      return false;
    return record.change != Journal::Change::transferred_in || keep_transferred_attributes(record);
  }

  // A file moved or copied in brings its dead properties and creation
  // time, where a write kept those of the file it replaced.
  bool keep_transferred_attributes(const Journal::Record& record) {
    Fd file(open_beneath(root_.get(), relative(record.path), O_RDONLY | O_NOFOLLOW));
    if (!file.ok()) return false;
    const std::string& properties = record.properties;
    bool kept =
        properties.empty()
            ? ::fremovexattr(file.get(), properties_attribute) == 0 || errno == ENODATA || errno == ENOTSUP
            : ::fsetxattr(file.get(), properties_attribute, properties.data(), properties.size(), 0) == 0;
    if (record.created != 0) {  // without xattrs the creation time is the file's birth time
      std::string created = std::to_string(record.created);
      ::fsetxattr(file.get(), created_attribute, created.data(), created.size(), 0);
    }
    return kept;
  }

  // A file is removed as a write is made: its record first (journaled),
  // then the unlink.
  Status remove_file(int parent, std::string_view parent_path, const std::string& name,
                     std::string_view path) {
    std::uint64_t mark = 0;
    bool recorded = journaling() && journal_write(Journal::Change::remove, parent, path, {}, {}, mark);
    if (journaling() && !recorded) return from_errno(errno, "journal", path);
    if (::unlinkat(parent, name.c_str(), 0) != 0) {
      int error = errno;
      if (recorded) settle_journal();  // so that no replay makes this removal after all
      return from_errno(error, "unlink", path);
    }
    if (!recorded || !durable_by_record(mark, parent, parent_path)) sync_directory(parent);
    return VERBD_OK;
  }

  // Renamed away first, so nobody sees a half-deleted collection. The
  // journal's records of writes into it need no settle: a replay skips
  // them, since their folder is gone.
  Status remove_collection(int parent, const std::string& name, std::string_view path) {
    std::string doomed = scratch_name();
    int scratch;
    if (!rename_to_scratch(parent, name, doomed, scratch))
      return scratch_step_failure(errno, scratch, "rename", path);
    remove_tree(scratch, doomed);
    sync_directory(parent);
    return VERBD_OK;
  }

  Status empty_root() {
    if (Status status = settle_journal(); status != VERBD_OK) return status;
    for (const auto& member : list_members(root_.get(), true)) {
      std::string name = member.back() == '/' ? member.substr(0, member.size() - 1) : member;
      std::string doomed = scratch_name();
      int scratch;
      if (!rename_to_scratch(root_.get(), name, doomed, scratch))
        return scratch_step_failure(errno, scratch, "rename", "/" + name);
      remove_tree(scratch, doomed);
    }
    sync_directory(root_.get());
    return VERBD_OK;
  }

  // Regular files and folders, sorted; symlinks and the scratch folder are left out.
  std::vector<std::string> list_members(int folder, bool is_root) const {
    std::vector<std::string> members;
    DIR* stream = ::fdopendir(::fcntl(folder, F_DUPFD_CLOEXEC, 0));
    if (stream == nullptr) return members;
    while (dirent* item = ::readdir(stream)) {
      std::string_view name = item->d_name;
      if (name == "." || name == ".." || (is_root && name == reserved_folder)) continue;
      struct stat st {};
      if (::fstatat(folder, item->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (S_ISDIR(st.st_mode)) members.push_back(std::string(name) + "/");
      if (S_ISREG(st.st_mode)) members.emplace_back(name);
    }
    ::closedir(stream);
    std::sort(members.begin(), members.end());
    return members;
  }

  static Fd open_root(const std::filesystem::path& root) {
    std::error_code error;
    std::filesystem::create_directories(root, error);
    if (error) throw std::runtime_error("cannot create store root " + root.string() + ": " + error.message());
    Fd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.ok())
      throw std::runtime_error("cannot open store root " + root.string() + ": " + std::strerror(errno));
    return fd;
  }

  // Takes `step(folder)` (true when done) in the scratch folder, and once
  // more in a new one when it failed because the folder was removed while
  // verbd ran. Whether it was done at last; `folder`: where it was taken
  // last (errno says why it failed there).
  template <class Step>
  bool in_scratch(int& folder, Step step) {
    folder = scratch_.get();
    if (step(folder)) return true;
    if (errno != ENOENT) return false;
    int again = scratch_.made_again(folder);
    if (again == folder) return false;
    folder = again;
    return step(folder);
  }

  // A step in the scratch folder open as `folder` failed with `error`: the
  // server's fault (500, logged) when that folder is gone, removed and not
  // made again (a file in its place), rather than the client's path's (404).
  static Status scratch_step_failure(int error, int folder, const char* doing, std::string_view path) {
    struct stat st {};
    if (::fstat(folder, &st) == 0 && st.st_nlink == 0) return scratch_failure(error, doing, path);
    return from_errno(error, doing, path);
  }

  // Renames `name` in `directory` to `doomed` in the scratch folder, which
  // `folder` is set to: a collection goes there before it is removed, so
  // that nobody sees it half-removed.
  bool rename_to_scratch(int directory, const std::string& name, const std::string& doomed, int& folder) {
    return in_scratch(folder, [&](int scratch) {
      return ::renameat(directory, name.c_str(), scratch, doomed.c_str()) == 0;
    });
  }

  // Where the files all processes share are: the folder pinned at start
  // when there is one (store/shared_files.hpp), which may not be the one
  // named so now.
  static int shared_folder(int root, int scratch) {
    int pinned = pinned_folder_of(root);
    return pinned >= 0 ? pinned : scratch;
  }

  // The lock table stays: locks outlive a restart. So does the write count,
  // which other processes may have mapped already, and the journal, which
  // replay_journal() reads next.
  void clear_scratch() {
    int scratch = scratch_.get();
    for (const auto& member : list_members(scratch, false)) {
      if (member == LockTable::file_name || member == WriteCount::file_name || member == Journal::file_name)
        continue;
      remove_tree(scratch, member.back() == '/' ? member.substr(0, member.size() - 1) : member);
    }
  }

  static bool keep_properties(int old, int file, std::string_view path) {
    if (std::int64_t created = created_of(old); created != 0) {
      std::string text = std::to_string(created);
      ::fsetxattr(file, created_attribute, text.data(), text.size(), 0);  // without xattrs: the birth time
    }
    if (copy_attribute(old, file, properties_attribute)) return true;
    verbd::log::get("store").error("write {}: keeping its dead properties: {}", path, std::strerror(errno));
    return false;
  }

  std::string scratch_name() {
    return std::to_string(::getpid()) + "-" + std::to_string(scratch_counter_.fetch_add(1));
  }

  void sync_directory(int directory) const {
    if (fsync_) ::fsync(directory);
  }

  // The journal's slots are the stripes: a path's records are appended
  // under its stripe's lock.
  static std::size_t stripe_of(std::string_view path) {
    return std::hash<std::string_view>{}(path) % stripes;
  }

  // Holds the stripe of a path against the other threads and processes.
  // Two are taken in the order of their numbers, so that two takers never
  // wait for each other.
  class StripeLock {
   public:
    StripeLock(FilesStore& store, std::string_view path) : StripeLock(store, stripe_of(path)) {}
    StripeLock(FilesStore& store, std::size_t stripe)
        : in_this_process_(store.stripes_[stripe]), in_any_process_(store.locks_.get(), off_t(stripe)) {}

   private:
    std::lock_guard<std::mutex> in_this_process_;
    ByteLock in_any_process_;
  };

  bool fsync_;
  bool journaling_;  // small writes made durable by the journal: with fsync, but not while replaying it
  bool journaling() const noexcept { return journaling_ && journal_.in_use(); }
  Fd root_;
  ScratchFolder scratch_;
  int shared_folder_;
  WriteCount writes_;
  ReadCache cache_;
  Journal journal_;
  std::atomic<std::uint64_t> scratch_counter_{0};
  // Writes to two paths that share a stripe wait for each other, fsyncs
  // included: with 8 writes in flight, 64 stripes held one write in ten
  // behind another (1 - (63/64)^7); 1024 hold one in 150.
  static constexpr std::size_t stripes = 1024;
  static_assert(stripes == Journal::slots);
  std::array<std::mutex, stripes> stripes_;
  Fd locks_;
  std::unique_ptr<LockTable> dav_locks_;
};

}  // namespace

void clear_scratch_of(const std::filesystem::path& root, int pid) {
  Fd scratch(::open((root / reserved_folder).c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!scratch.ok()) return;
  std::string prefix = std::to_string(pid) + "-";
  for (const auto& name : names_in(scratch.get()))
    if (name.starts_with(prefix)) remove_tree(scratch.get(), name);
}

std::unique_ptr<Store> make_files_store(const FilesOptions& options) {
  return std::make_unique<FilesStore>(options);
}

}  // namespace verbd::store
