// The resource store: maps clean paths to resources (bytes, a media type, a
// modification time, a strong ETag) and collections (paths ending in '/').
//
// Every backend behaves identically; tests/unit/store_test.cpp runs one
// suite against each. All calls are safe from any thread, and each call is
// atomic on its own: a reader sees a resource's old or new bytes, never a mix.
#pragma once

#include "common/fd.hpp"
#include "config/config.hpp"
#include "store/lock_table.hpp"

#include <verbd/plugin.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace verbd::store {

using Entry = verbd_entry;
using Status = verbd_status;

enum class WriteMode {
  replace = VERBD_WRITE_REPLACE,
  append = VERBD_WRITE_APPEND,
  create = VERBD_WRITE_CREATE
};

// A body that is in a file already: a request body spooled by open_spool().
struct BodyFile {
  int fd = -1;
  std::uint64_t size = 0;
  // Set when a write made the file itself the resource (the files store
  // links it into place): a second write of the same body copies it.
  bool adopted = false;
};

// Dead properties (WebDAV), by name in Clark notation: "{namespace}local".
using Properties = std::map<std::string, std::string>;

struct PropertyChange {
  std::string_view name;
  std::string_view value;
  bool remove = false;
};

struct Write {
  std::string_view path;
  std::string_view body;
  std::string_view media_type;  // empty: keep the current one, else guess from the path
  WriteMode mode = WriteMode::replace;
  BodyFile* body_file = nullptr;  // when set, the body is this file's, and `body` is ignored
};

class Store {
 public:
  virtual ~Store() = default;

  virtual Status stat(std::string_view path, Entry& entry) = 0;
  // Appends the resource's bytes to `bytes` (skipped when null) and fills
  // `entry` from that same version.
  virtual Status read(std::string_view path, std::string* bytes, Entry& entry) = 0;
  // As read(), for a response: a resource larger than `send_from_file_bytes`
  // that is kept in a file may come as that file, open, in `file`, for the
  // host to send without copying it (sendfile) — the same version `entry`
  // describes, since a write replaces the file rather than changing it.
  // Backends without files append the bytes to `bytes`, as read() does.
  static constexpr std::uint64_t send_from_file_bytes = 64 * 1024;
  virtual Status read_for_sending(std::string_view path, std::string& bytes, [[maybe_unused]] Fd& file,
                                  Entry& entry) {
    return read(path, &bytes, entry);
  }
  // Missing parent collections are created. `created`: nothing was there.
  virtual Status write(const Write& write, Entry& entry, bool& created) = 0;
  // An unnamed file for a request body too large for memory, where write()
  // can adopt it without copying it: for the files store, in its scratch
  // folder; elsewhere, in the temporary folder. A closed Fd, with errno
  // set, when it cannot be made.
  virtual Fd open_spool() { return open_unnamed_file(temporary_folder()); }
  // A collection goes with everything in it; "/" empties the store.
  virtual Status remove(std::string_view path) = 0;
  // One member a line, sorted, "name/" for a collection.
  virtual Status list(std::string_view path, std::string& lines) = 0;

  // WebDAV (the services of <verbd/plugin.h> 1.4 say what each returns).
  virtual Status make_collection(std::string_view path) = 0;
  // Copies (`move` false) or moves `from` to `to`; VERBD_TRANSFER_* flags.
  virtual Status transfer(std::string_view from, std::string_view to, std::uint32_t flags, bool move,
                          bool& created) = 0;
  virtual Status properties(std::string_view path, Properties& properties) = 0;
  virtual Status change_properties(std::string_view path, std::span<const PropertyChange> changes) = 0;
  // The WebDAV locks on this store's resources.
  virtual LockTable& locks() = 0;

  // Whether a read may wait on another machine (a Redis server): then the
  // host calls even the plugins that never block on a pool thread, never
  // on an event loop.
  virtual bool reads_may_wait() const noexcept { return false; }
};

struct FilesOptions {
  std::filesystem::path root;
  bool fsync = true;
  // Empty the scratch folder of what writes interrupted by a crash left.
  // Only when no other process uses the store: a worker process opens it
  // without, its supervisor with (and clear_scratch_of() after a death).
  bool clear_scratch = true;
  // How long a small resource kept in memory is served without looking at
  // its file (read_cache.hpp); 0: look at every read.
  std::chrono::milliseconds recheck{100};
};

// Throws std::runtime_error when the root cannot be created or opened.
std::unique_ptr<Store> make_files_store(const FilesOptions& options);
std::unique_ptr<Store> make_memory_store();
// Connects when first used, and again whenever a connection failed.
std::unique_ptr<Store> make_redis_store(const config::Redis& settings);
// The backend the [store] section names.
std::unique_ptr<Store> make_store(const config::Store& config, bool clear_scratch = true);

// A store that cannot reach its server (redis) fails the call with
// VERBD_IO_ERROR and marks the calling thread with why; the host answers a
// request during which that happened with 503 instead of 500.
void mark_unreachable(std::string why) noexcept;
// The last mark's text, cleared; empty when there was none.
std::string take_unreachable() noexcept;

// Removes from the files store at `root` the scratch files of process
// `pid`: the writes it was making when it died. Their targets hold the old
// version, whole.
void clear_scratch_of(const std::filesystem::path& root, int pid);

}  // namespace verbd::store
