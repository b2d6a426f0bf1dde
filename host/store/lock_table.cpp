#include "store/lock_table.hpp"

#include "log/log.hpp"
#include "store/shared_files.hpp"

#include <verbd/detail/store_rules.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <shared_mutex>
#include <stdexcept>

namespace verbd::store {
namespace {

constexpr std::string_view header = "verbd-dav-locks ";

std::int64_t now_unix() { return static_cast<std::int64_t>(std::time(nullptr)); }

// A random (version 4) UUID as a state token (RFC 4918 §6.5).
std::string new_token() {
  unsigned char bytes[16] = {};
  std::size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n > 0) got += static_cast<std::size_t>(n);
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);
  char text[64];
  std::snprintf(text, sizeof text,
                "urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", bytes[0],
                bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9],
                bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
  return text;
}

// Fields of the file are separated by tabs, locks by newlines: both are
// escaped in the fields that may hold them (paths, owners).
std::string escaped(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '%' || c == '\t' || c == '\n' || c == '\r') {
      char code[4];
      std::snprintf(code, sizeof code, "%%%02X", static_cast<unsigned char>(c));
      out += code;
    } else {
      out += c;
    }
  }
  return out;
}

std::string unescaped(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned value = 0;
    if (text[i] == '%' && i + 2 < text.size() + 0 &&
        std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16).ec == std::errc{}) {
      out += static_cast<char>(value);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (true) {
    auto at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

bool parse_lock(std::string_view line, Lock& lock) {
  auto fields = split(line, '\t');
  if (fields.size() != 6) return false;
  lock.token = fields[0];
  lock.root = unescaped(fields[1]);
  lock.exclusive = fields[2] == "e";
  lock.infinite = fields[3] == "i";
  auto [end, error] =
      std::from_chars(fields[4].data(), fields[4].data() + fields[4].size(), lock.expires_unix);
  lock.owner = unescaped(fields[5]);
  return error == std::errc{} && detail::is_clean_path(lock.root);
}

// Takes a flock for as long as it lives.
class FileLock {
 public:
  FileLock(int fd, int how) : fd_(fd) {
    if (fd_ >= 0)
      while (::flock(fd_, how) != 0 && errno == EINTR) {
      }
  }
  ~FileLock() {
    if (fd_ >= 0) ::flock(fd_, LOCK_UN);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

// Takes (or, with F_UNLCK, gives up) an fcntl lock on `length` bytes of
// the file from `start`, owned by the open file `fd`; waits until it can.
bool set_range_lock(int fd, short type, off_t start, off_t length) {
  struct flock range {};
  range.l_type = type;
  range.l_whence = SEEK_SET;
  range.l_start = start;
  range.l_len = length;
  while (::fcntl(fd, F_OFD_SETLKW, &range) != 0)
    if (errno != EINTR) return false;
  return true;
}

// Which change is in admit() on this thread, for fence().
struct Admitted {
  const LockTable* table = nullptr;
  const std::string* checked = nullptr;
};
thread_local Admitted admitted;

}  // namespace

// Between admitted changes, many at a time, and acquire(), alone: a
// readers-writer lock where an acquire() that waits goes before changes
// that come after it (a turnstile), so a stream of writes cannot hold a
// LOCK off for ever. In memory for one process; for the files store,
// which several processes share, fcntl locks on two bytes of the table's
// file: the gate (byte 0) and the turnstile (byte 1). Each holder takes its
// own descriptor of the file, since an open file owns its fcntl locks and
// threads sharing one would share them; closing it gives them up.
class LockTable::Gate {
 public:
  Gate() = default;  // in memory
  explicit Gate(int folder) : folder_(::fcntl(folder, F_DUPFD_CLOEXEC, 0)) {
    if (!folder_.ok())
      throw std::runtime_error(std::string("cannot keep the store's folder open: ") + std::strerror(errno));
  }

  // Holds the gate while it lives: shared (a change), or alone (acquire()).
  class Pass {
   public:
    Pass(Gate& gate, bool alone) : gate_(gate), alone_(alone) {
      if (gate_.in_memory())
        gate_.enter_in_memory(alone_);
      else
        own_ = gate_.enter_file(alone_);
    }
    ~Pass() {
      if (gate_.in_memory())
        gate_.leave_in_memory(alone_);
      else if (own_.ok() && set_range_lock(own_.get(), F_UNLCK, 0, 2))
        gate_.give_back(std::move(own_));
    }
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;
    // False when the file's locks could not be taken: nothing is held.
    bool ok() const noexcept { return gate_.in_memory() || own_.ok(); }

   private:
    Gate& gate_;
    bool alone_;
    Fd own_;
  };

 private:
  bool in_memory() const noexcept { return !folder_.ok(); }

  void enter_in_memory(bool alone) {
    std::lock_guard turnstile(turnstile_);
    if (alone)
      gate_.lock();
    else
      gate_.lock_shared();
  }
  void leave_in_memory(bool alone) {
    if (alone)
      gate_.unlock();
    else
      gate_.unlock_shared();
  }

  // Alone: the turnstile, then the gate once the changes admitted are done.
  // Shared: both bytes, then the turnstile given back at once; while an
  // acquire() holds or waits with the turnstile, this waits behind it.
  Fd enter_file(bool alone) {
    Fd own = descriptor();
    bool held =
        own.ok() &&
        (alone ? set_range_lock(own.get(), F_WRLCK, 1, 1) && set_range_lock(own.get(), F_WRLCK, 0, 1)
               : set_range_lock(own.get(), F_RDLCK, 0, 2) && set_range_lock(own.get(), F_UNLCK, 1, 1));
    if (held) return own;
    // The file's name removed, in a process that did not pin it
    // (shared_files.hpp): a process started now would make a table of its
    // own, unseen by the others. Only a restart mends that.
    bool removed = !own.ok() && errno == ENOENT;
    verbd::log::get("store").error("locking the lock table {}: {}{}", LockTable::file_name,
                                   std::strerror(errno),
                                   removed ? " (it was removed while verbd ran: restart verbd)" : "");
    return Fd();  // closing it gave up what was taken
  }

  Fd descriptor() {
    {
      std::lock_guard guard(spare_mutex_);
      if (!spare_.empty()) {
        Fd own = std::move(spare_.back());
        spare_.pop_back();
        return own;
      }
    }
    return open_shared_file(folder_.get(), LockTable::file_name, false);
  }
  void give_back(Fd own) {
    std::lock_guard guard(spare_mutex_);
    spare_.push_back(std::move(own));
  }

  Fd folder_;  // not open: in memory
  std::mutex turnstile_;
  std::shared_mutex gate_;
  std::mutex spare_mutex_;
  std::vector<Fd> spare_;  // descriptors of the file that no holder uses now
};

bool Lock::covers(std::string_view path) const noexcept {
  if (path == root) return true;
  // A collection named without its '/': "/a" for a lock on "/a/".
  if (detail::names_collection(root) && root.size() == path.size() + 1 && root.starts_with(path)) return true;
  if (!infinite) return false;
  // "/a/" with depth infinity covers "/a/b" and "/a/b/"; "/a" (a
  // collection named without its '/') likewise.
  std::string_view base = detail::names_collection(root) ? std::string_view(root).substr(0, root.size() - 1)
                                                         : std::string_view(root);
  return path.size() > base.size() && path.substr(0, base.size()) == base && path[base.size()] == '/';
}

const Lock* unheld_lock(std::span<const Lock> locks, const Change& change,
                        std::span<const std::string> tokens,
                        const std::function<bool(std::string_view)>& exists) {
  std::string_view path = change.path;
  std::string_view parent = detail::parent_of(path);
  std::optional<bool> is_new;  // asked once, and only when it matters
  auto adds_or_removes_member = [&] {
    if (change.membership != Change::Membership::if_new) return change.membership == Change::Membership::yes;
    if (!is_new) is_new = !exists(path);
    return *is_new;
  };
  // Below `path`: within it when it ends in '/', or within the collection
  // it names without its '/'.
  auto below = [&](std::string_view root) {
    return detail::is_within(root, path) ||
           (root.size() > path.size() && root.starts_with(path) && root[path.size()] == '/');
  };
  for (const Lock& lock : locks) {
    if (std::find(tokens.begin(), tokens.end(), lock.token) != tokens.end()) continue;
    if (lock.covers(path) || (change.tree && below(lock.root))) return &lock;
    if (!parent.empty() && lock.root == parent && adds_or_removes_member()) return &lock;
  }
  return nullptr;
}

LockTable::LockTable() : gate_(std::make_unique<Gate>()) {}

LockTable::LockTable(std::unique_ptr<Shared> shared) : shared_(std::move(shared)) {}

LockTable::~LockTable() = default;

LockTable::LockTable(int folder) : file_(open_shared_file(folder, file_name, true)), generation_(UINT64_MAX) {
  if (!file_.ok())
    throw std::runtime_error(std::string("cannot open the lock table ") + file_name + ": " +
                             std::strerror(errno));
  gate_ = std::make_unique<Gate>(folder);
}

std::int64_t LockTable::bounded_timeout(std::int64_t asked) noexcept {
  return std::clamp(asked, shortest_timeout_s, longest_timeout_s);
}

// Runs `use_locks(locks_)` with the table current; with `change`, the table
// is stored afterwards. Nothing (nullopt) when a shared table cannot be
// reached.
template <class Use>
auto LockTable::use(bool change, Use&& use_locks)
    -> std::optional<decltype(use_locks(std::declval<std::vector<Lock>&>()))> {
  std::lock_guard guard(mutex_);
  if (shared_) return use_shared(change, use_locks);
  FileLock lock(file_.get(), change ? LOCK_EX : LOCK_SH);
  read_if_changed();
  drop_expired();
  auto result = use_locks(locks_);
  if (change && file_.ok()) {
    ++generation_;
    std::string text = encoded();
    if (::pwrite(file_.get(), text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()) ||
        ::ftruncate(file_.get(), static_cast<off_t>(text.size())) != 0)
      verbd::log::get("store").error("writing the lock table {}: {}", file_name, std::strerror(errno));
  }
  return result;
}

// A table that other hosts change too: read at each use; a change is
// stored only if nobody else changed the table meanwhile, else it is made
// again on what they stored.
template <class Use>
auto LockTable::use_shared(bool change, Use& use_locks)
    -> std::optional<decltype(use_locks(std::declval<std::vector<Lock>&>()))> {
  while (true) {
    std::optional<std::string> text = shared_->load();
    if (!text) return std::nullopt;
    last_shared_text_ = *text;
    decode(*text);
    drop_expired();
    auto result = use_locks(locks_);
    if (!change) return result;
    ++generation_;
    std::string next = locks_.empty() ? std::string() : encoded();
    std::optional<bool> swapped = shared_->swap(*text, next);
    if (!swapped) return std::nullopt;
    if (*swapped) {
      last_shared_text_ = std::move(next);
      return result;
    }
  }
}

void LockTable::read_if_changed() {
  if (!file_.ok()) return;
  char start[64] = {};
  ssize_t n = ::pread(file_.get(), start, sizeof start, 0);
  std::string_view head(start, n > 0 ? static_cast<std::size_t>(n) : 0);
  if (generation_of(head) == generation_) return;
  struct stat about {};
  std::string text;
  if (::fstat(file_.get(), &about) == 0 && about.st_size > 0) {
    text.resize(static_cast<std::size_t>(about.st_size));
    ssize_t got = ::pread(file_.get(), text.data(), text.size(), 0);
    text.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
  }
  decode(text);
}

std::uint64_t LockTable::generation_of(std::string_view text) {
  std::uint64_t generation = 0;
  if (text.starts_with(header)) {
    auto digits = text.substr(header.size());
    std::from_chars(digits.data(), digits.data() + digits.size(), generation);
  }
  return generation;
}

void LockTable::decode(std::string_view text) {
  locks_.clear();
  generation_ = generation_of(text);
  auto lines = split(text, '\n');
  for (std::size_t i = 1; i < lines.size(); ++i) {  // line 0 is the header
    if (lines[i].empty()) continue;
    Lock lock;
    if (parse_lock(lines[i], lock))
      locks_.push_back(std::move(lock));
    else
      verbd::log::get("store").error("the lock table {} has a line it cannot read; it is dropped", file_name);
  }
}

std::string LockTable::encoded() const {
  std::string text = std::string(header) + std::to_string(generation_) + "\n";
  for (const Lock& lock : locks_)
    text += lock.token + "\t" + escaped(lock.root) + "\t" + (lock.exclusive ? "e" : "s") + "\t" +
            (lock.infinite ? "i" : "0") + "\t" + std::to_string(lock.expires_unix) + "\t" +
            escaped(lock.owner) + "\n";
  return text;
}

void LockTable::drop_expired() {
  auto now = now_unix();
  std::erase_if(locks_, [now](const Lock& lock) { return lock.expires_unix <= now; });
}

namespace {

// The first lock one of `changes` runs into without its token.
const Lock* first_unheld(std::span<const Lock> locks, std::span<const Change> changes,
                         std::span<const std::string> tokens,
                         const std::function<bool(std::string_view)>& exists) {
  if (locks.empty()) return nullptr;
  for (const Change& change : changes)
    if (const Lock* lock = unheld_lock(locks, change, tokens, exists)) return lock;
  return nullptr;
}

// How often a change to a shared table is checked again when the table
// moved meanwhile, before it fails: locks change far less often than that.
constexpr int most_fenced_attempts = 16;

}  // namespace

verbd_status LockTable::admit(std::span<const Change> changes, std::span<const std::string> tokens,
                              const std::function<bool(std::string_view)>& exists,
                              const std::function<verbd_status()>& change, Lock& met) {
  if (shared_) return admit_fenced(changes, tokens, exists, change, met);
  Gate::Pass pass(*gate_, false);
  if (!pass.ok()) return VERBD_IO_ERROR;
  std::vector<Lock> locks = affecting("/", true);  // all of them
  if (const Lock* lock = first_unheld(locks, changes, tokens, exists)) {
    met = *lock;
    return VERBD_LOCKED;
  }
  return change();
}

// The table is checked; the change carries the text it was checked against
// (fence()), and the store makes it only if the table is still that text:
// else VERBD_LOCKED, and it is checked again on the table read anew. The
// first try uses the text this process read last (the host's check before
// the plugin call read it), which spares a round trip to the server; a
// lock found in it is believed only once the table is read anew.
verbd_status LockTable::admit_fenced(std::span<const Change> changes, std::span<const std::string> tokens,
                                     const std::function<bool(std::string_view)>& exists,
                                     const std::function<verbd_status()>& change, Lock& met) {
  bool read_anew = false;
  for (int attempt = 0; attempt < most_fenced_attempts; ++attempt) {
    std::optional<std::string> text;
    if (!read_anew) {
      std::lock_guard guard(mutex_);
      text = last_shared_text_;
    }
    bool fresh = !text;
    if (fresh && !(text = shared_->load())) return VERBD_IO_ERROR;
    std::vector<Lock> locks;
    {
      std::lock_guard guard(mutex_);
      last_shared_text_ = *text;
      decode(*text);
      drop_expired();
      locks = locks_;
    }
    read_anew = true;
    if (const Lock* lock = first_unheld(locks, changes, tokens, exists)) {
      if (!fresh) continue;
      met = *lock;
      return VERBD_LOCKED;
    }
    struct Fencing {
      Fencing(const LockTable* table, const std::string* text) { admitted = {table, text}; }
      ~Fencing() { admitted = {}; }
    } fencing(this, &*text);
    verbd_status status = change();
    if (status != VERBD_LOCKED) return status;
  }
  verbd::log::get("store").error("a change was refused {} times because the lock table kept changing",
                                 most_fenced_attempts);
  return VERBD_IO_ERROR;
}

const std::string* LockTable::fence() const noexcept {
  return admitted.table == this ? admitted.checked : nullptr;
}

verbd_status LockTable::acquire(Lock& lock, std::int64_t timeout_s) {
  if (!detail::is_clean_path(lock.root)) return VERBD_BAD_ARGUMENT;
  Lock asked = lock;
  std::optional<Gate::Pass> alone;  // no change is admitted meanwhile
  if (gate_) {
    alone.emplace(*gate_, true);
    if (!alone->ok()) return VERBD_IO_ERROR;
  }
  return use(true,
             [&](std::vector<Lock>& locks) {
               lock = asked;  // a shared table may run this again
               for (const Lock& held : locks) {
                 bool overlaps = held.covers(lock.root) || (lock.infinite && lock.covers(held.root));
                 if (overlaps && (held.exclusive || lock.exclusive)) return VERBD_LOCKED;
               }
               lock.token = new_token();
               lock.expires_unix = now_unix() + bounded_timeout(timeout_s);
               locks.push_back(lock);
               return VERBD_OK;
             })
      .value_or(VERBD_IO_ERROR);
}

verbd_status LockTable::refresh(std::string_view path, std::string_view token, std::int64_t timeout_s,
                                Lock& renewed) {
  return use(true,
             [&](std::vector<Lock>& locks) {
               for (Lock& held : locks)
                 if (held.token == token && held.covers(path)) {
                   held.expires_unix = now_unix() + bounded_timeout(timeout_s);
                   renewed = held;
                   return VERBD_OK;
                 }
               return VERBD_NOT_FOUND;
             })
      .value_or(VERBD_IO_ERROR);
}

verbd_status LockTable::release(std::string_view path, std::string_view token) {
  return use(true,
             [&](std::vector<Lock>& locks) {
               auto before = locks.size();
               std::erase_if(locks,
                             [&](const Lock& held) { return held.token == token && held.covers(path); });
               return locks.size() < before ? VERBD_OK : VERBD_NOT_FOUND;
             })
      .value_or(VERBD_IO_ERROR);
}

std::vector<Lock> LockTable::affecting(std::string_view path, bool below) {
  return use(false,
             [&](std::vector<Lock>& locks) {
               std::vector<Lock> found;
               for (const Lock& held : locks)
                 if (held.covers(path) || (below && detail::is_within(held.root, path)))
                   found.push_back(held);
               return found;
             })
      .value_or(std::vector<Lock>{});
}

void LockTable::forget(std::string_view path) {
  std::string as_collection = detail::names_collection(path) ? std::string(path) : std::string(path) + "/";
  auto goes = [&](const Lock& held) {
    return held.root == path || detail::is_within(held.root, as_collection);
  };
  // Most deletes touch no lock: the table is written only when one goes.
  bool any = use(false, [&](std::vector<Lock>& locks) {
               return std::any_of(locks.begin(), locks.end(), goes);
             }).value_or(false);
  if (any) use(true, [&](std::vector<Lock>& locks) { return std::erase_if(locks, goes); });
}

}  // namespace verbd::store
