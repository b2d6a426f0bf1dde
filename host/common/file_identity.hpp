// Which version of a file: a `cp` over it changes its size or modification
// time, a rename of another file over it its inode. What identifies a loaded
// plugin (plugin/) and a quarantined one (board/).
#pragma once

#include <compare>
#include <cstdint>

namespace verbd {

struct FileIdentity {
  std::uint64_t device = 0, inode = 0, size = 0;
  std::int64_t modified_ns = 0;
  auto operator<=>(const FileIdentity&) const = default;
};

}  // namespace verbd
