// The files that every process of one verbd shares in the files store's
// scratch folder: the path locks (`locks`), the WebDAV lock table
// (`dav-locks`), the write count (`writes`) and the journal of durable
// writes (`journal`). Each process needs an open file of its own on each
// (an fcntl lock belongs to the open file that took it), and all of them
// must open the same file.
//
// Opening by name does not promise that: someone who removes the name while
// verbd runs (cleaning "temporary files") would give each later open a
// different file, and the processes would no longer exclude each other. So
// the supervisor pins them: it opens each once, before it forks any worker,
// and keeps it open; every open after that goes through the pinned
// descriptor (/proc/self/fd/N opens the very file it holds, whatever became
// of its name). An isolated plugin's process, started by exec, is handed the
// descriptors (`--shared-files`).
#pragma once

#include "common/fd.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace verbd::store {

// The files store's path locks: one byte per stripe of paths
// (FilesStore::stripes), locked while a write to one of its paths is made.
inline constexpr const char* path_locks_file = "locks";

struct SharedFile {
  const char* name;                     // in the scratch folder
  const char* role;                     // what the processes share through it, for a log line
  std::uint64_t device = 0, inode = 0;  // which file the name holds; 0, 0: none
  bool same_file(const SharedFile& other) const noexcept {
    return device == other.device && inode == other.inode;
  }
};

// Those of the files store at `root`, as their names hold them now.
std::vector<SharedFile> shared_files_of(const std::filesystem::path& root);

// Opens each shared file of the files store at `root` (making those that
// are missing) and keeps it open for the life of this process and of the
// processes forked from it. Returns them as pinned. Throws
// std::runtime_error when one cannot be opened.
std::vector<SharedFile> pin_shared_files(const std::filesystem::path& root);

// The pinned descriptors, as `--shared-files` hands them to a process
// started by exec (empty when none are pinned), and the descriptors
// themselves, which must stay open across that exec.
std::string pinned_as_text();
std::vector<int> pinned_descriptors();
// In a process started by exec: takes the descriptors `text` names as
// pinned. Throws std::runtime_error when `text` is not pinned_as_text()'s
// form or names a descriptor that is not open.
void adopt_pinned(std::string_view text);

// The pinned scratch folder when the folder open as `root` is the root of
// the store whose files are pinned; -1 otherwise. The folder to open the
// shared files in, even if a scratch folder of that name was made since.
int pinned_folder_of(int root);

// Opens the shared file `name` of the scratch folder open as `scratch`,
// read and write, for a store: the pinned file when this folder's are
// pinned, else the one its name holds (made if missing when `create`).
Fd open_shared_file(int scratch, const char* name, bool create);

}  // namespace verbd::store
