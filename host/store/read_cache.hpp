// Small resources of the files store kept in memory, so that reading one
// costs at most one fstatat, and mostly none, instead of open, fstat,
// getxattr, read and close.
//
// An entry is served only while the file is the very one that was read: the
// same inode, size, modification and change time, to the nanosecond (a write
// through the store renames a new inode into place; an edit in place, a new
// media type, a rename all change the change time). The path is looked up
// without RESOLVE_BENEATH here; that is safe because only the identical
// inode, read earlier through the safe path, is ever served.
//
// Looking at the file (one fstatat) is what a cached read would cost, so it
// is skipped while two things hold: nothing has been written through the
// store since the last look, by any process (WriteCount), and that look is
// younger than `recheck`. A write through verbd is therefore seen at once;
// a file another program changes under the root, within `recheck`. With a
// `recheck` of 0 every read looks at the file.
//
// Timestamps come from a coarse clock, so a file changed twice within one
// tick keeps its times; like git's "racy" entries, a file changed within
// the last `settle` is therefore not kept until it has settled.
#pragma once

#include "store/store.hpp"
#include "store/write_count.hpp"

#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace verbd::store {

class ReadCache {
 public:
  static constexpr std::size_t max_resource_bytes =
      Store::send_from_file_bytes;                     // larger: sent from the file
  static constexpr std::size_t max_path_bytes = 1023;  // so a path and its NUL fit a stack buffer
  static constexpr std::size_t max_total_bytes = 32 * 1024 * 1024;
  static constexpr std::chrono::milliseconds settle{100};

  ReadCache(const WriteCount& writes, std::chrono::milliseconds recheck) noexcept
      : writes_(writes), recheck_(recheck) {}

  // Appends the bytes of `path` to `bytes` and fills `entry` if a kept copy
  // is still the file at `relative_path` below `root`.
  bool find(int root, std::string_view relative_path, std::string& bytes, Entry& entry);

  // Keeps what was just read from a file that `st` describes, if it is
  // small and has settled.
  void keep(std::string_view relative_path, const struct stat& st, std::string_view bytes,
            const Entry& entry);

 private:
  struct Identity {
    dev_t device;
    ino_t inode;
    off_t size;
    std::int64_t modified_ns, changed_ns;
    bool operator==(const Identity&) const = default;
  };
  using Clock = std::chrono::steady_clock;
  // The last look that found the file unchanged.
  struct Check {
    std::uint64_t writes;  // WriteCount::now() before it
    Clock::time_point when;
  };
  struct Kept {
    Identity identity;
    std::string bytes;
    Entry entry;
    std::optional<Check> checked;  // none yet when just kept
  };
  struct Hash : std::hash<std::string_view> {
    using is_transparent = void;
  };

  static Identity identity_of(const struct stat& st) noexcept;
  bool may_skip_look(const Kept& kept, const Check& now) const noexcept;
  static void serve(const Kept& kept, std::string& bytes, Entry& entry);

  const WriteCount& writes_;
  const std::chrono::milliseconds recheck_;

  std::mutex mutex_;
  std::unordered_map<std::string, Kept, Hash, std::equal_to<>> kept_;
  std::size_t total_bytes_ = 0;
};

}  // namespace verbd::store
