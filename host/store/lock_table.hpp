// WebDAV write locks (RFC 4918 §6, §7): which paths are locked, how deep,
// for how long, and the token that lets a client change what its lock
// covers. The host consults the table before it calls any plugin
// (dispatch/conditions.hpp), and again inside every store change a plugin
// makes (admit()), so that a lock granted while a plugin runs is respected
// by what it does next; the LOCK and UNLOCK plugins change the table.
//
// Every worker process must see the same locks. The files store keeps its
// table in one file of its scratch folder, `dav-locks`: each call takes a
// flock on that file (shared to read, exclusive to change), reads it again
// only when its generation number (at its start) moved since this process
// last read it, and a change writes it whole with one pwrite. So locks
// survive a restart, and a worker killed mid-call leaves the old table or
// the new. The memory store's table lives in memory, like that store. The
// redis store's is one Redis key, shared by every host (LockTable::Shared).
#pragma once

#include "common/fd.hpp"

#include <verbd/plugin.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace verbd::store {

struct Lock {
  std::string token;  // "urn:uuid:..."
  std::string root;   // the path it was taken on
  bool exclusive = true;
  bool infinite = false;  // Depth infinity: the collection `root` and everything below it
  std::string owner;      // the client's DAV:owner element, as sent
  std::int64_t expires_unix = 0;

  // Whether the lock applies to `path`: taken on it, or on a collection above it with Depth infinity.
  bool covers(std::string_view path) const noexcept;
};

// What a change does to the paths locks protect: it changes `path`, and
// everything below it when `tree`; it adds or removes a member of the
// collection holding `path` when `membership` says so (`if_new`: when
// nothing is at `path` yet, a write).
struct Change {
  enum class Membership { no, yes, if_new };
  std::string_view path;
  bool tree = false;
  Membership membership = Membership::no;
};

// The first of `locks` that `change` runs into whose token is not among
// `tokens`; null when none. `exists` answers Membership::if_new, asked only
// when a lock on the collection above could apply.
const Lock* unheld_lock(std::span<const Lock> locks, const Change& change,
                        std::span<const std::string> tokens,
                        const std::function<bool(std::string_view)>& exists);

class LockTable {
 public:
  // Where a table shared by several hosts is kept (a Redis key): read at
  // every use, changed only if unchanged since it was read.
  class Shared {
   public:
    virtual ~Shared() = default;
    // The table's text ("" for none); nullopt when it cannot be reached.
    virtual std::optional<std::string> load() = 0;
    // Stores `text` if the table is still `expected`: false when it is
    // not (then the change is made again), nullopt when it cannot be reached.
    virtual std::optional<bool> swap(std::string_view expected, std::string_view text) = 0;
  };

  // In memory only.
  LockTable();
  // Kept in the file `dav-locks` of the folder open as `folder`. Throws
  // std::runtime_error when the file cannot be opened.
  explicit LockTable(int folder);
  explicit LockTable(std::unique_ptr<Shared> shared);
  ~LockTable();

  // Granted timeouts lie between these: a client asking for "Infinite"
  // gets the longest.
  static constexpr std::int64_t longest_timeout_s = 7 * 24 * 3600;
  static constexpr std::int64_t shortest_timeout_s = 1;
  static constexpr const char* file_name = "dav-locks";

  // Runs `change`, a store call that makes `changes`, unless one of them
  // runs into a lock whose token is not among `tokens`: then VERBD_LOCKED,
  // with `met` that lock. No lock is granted between the check and the end
  // of `change`: here acquire() waits while admitted changes run (a gate:
  // fcntl locks on the table's file between processes, or in memory); for
  // a shared table the store makes `change` only if the table is still the
  // one checked (fence()), and answers VERBD_LOCKED when not, so it is
  // checked again.
  verbd_status admit(std::span<const Change> changes, std::span<const std::string> tokens,
                     const std::function<bool(std::string_view)>& exists,
                     const std::function<verbd_status()>& change, Lock& met);
  // For a shared table, inside admit() on this thread: the table's text as
  // checked, which the change must find unchanged. Otherwise null.
  const std::string* fence() const noexcept;

  // Takes `lock`, filling its token and expiry: VERBD_LOCKED when a lock
  // of another conflicts with it.
  // When the table cannot be reached: VERBD_IO_ERROR from these, and no
  // locks from affecting().
  verbd_status acquire(Lock& lock, std::int64_t timeout_s);
  // Renews the lock `token` that covers `path`; VERBD_NOT_FOUND when none does.
  verbd_status refresh(std::string_view path, std::string_view token, std::int64_t timeout_s, Lock& renewed);
  verbd_status release(std::string_view path, std::string_view token);
  // The locks covering `path`, and with `below` those taken on paths below it too.
  std::vector<Lock> affecting(std::string_view path, bool below = false);
  // The locks on `path` and below it go: what they locked was deleted or moved.
  void forget(std::string_view path);

  static std::int64_t bounded_timeout(std::int64_t asked) noexcept;

 private:
  template <class Use>
  auto use(bool change, Use&& use_locks)
      -> std::optional<decltype(use_locks(std::declval<std::vector<Lock>&>()))>;
  template <class Use>
  auto use_shared(bool change, Use& use_locks)
      -> std::optional<decltype(use_locks(std::declval<std::vector<Lock>&>()))>;
  void read_if_changed();
  static std::uint64_t generation_of(std::string_view text);
  void decode(std::string_view text);
  std::string encoded() const;
  void drop_expired();
  verbd_status admit_fenced(std::span<const Change> changes, std::span<const std::string> tokens,
                            const std::function<bool(std::string_view)>& exists,
                            const std::function<verbd_status()>& change, Lock& met);
  class Gate;

  std::mutex mutex_;  // between this process's threads; the flock is between processes
  std::vector<Lock> locks_;
  Fd file_;  // not open: the table lives in memory, or is shared_
  std::unique_ptr<Shared> shared_;
  std::optional<std::string> last_shared_text_;  // as read last from shared_
  std::uint64_t generation_ = 0;
  std::unique_ptr<Gate> gate_;  // not for a shared table
};

}  // namespace verbd::store
