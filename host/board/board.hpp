// The board: memory that the supervisor and its worker processes share.
//
// The supervisor maps it before it forks the first worker, so every worker,
// and every worker forked later to replace one, sees the same bytes. On it:
//   - for each event loop, CallRecords: the plugin call the loop is in, and
//     each of its pool threads (dispatch/plugin_pool.hpp), if any, and the
//     plugin code its process runs as it loads plugins, so that the
//     supervisor can name the plugin after the worker dies;
//   - for each event loop, how many connections it holds: max_connections
//     counts all processes together, and a dead worker's count goes to 0;
//   - the quarantine: plugin files whose methods answer 503, or that are
//     not loaded at all (they crashed or hung workers as they loaded);
//   - the highest plugin generation number any worker has published, so
//     that a replacement worker goes on counting from there;
//   - the metrics' counters (common/metrics.hpp): each loop's, and the
//     rare events of every process.
//
// It holds no pointers. A field that another process reads while it may
// change is atomic; the rest is read only after its writer has died.
#pragma once

#include "common/file_identity.hpp"
#include "common/metrics.hpp"
#include "common/padded_counter.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace verbd::board {

// A string in a fixed array, cut short (with "...") when too long.
template <std::size_t Capacity>
struct FixedText {
  char bytes[Capacity] = {};

  void set(std::string_view text) noexcept {
    std::size_t length = text.size() < Capacity ? text.size() : Capacity - 1;
    text.copy(bytes, length);
    if (length < text.size()) std::string_view("...").copy(bytes + length - 3, 3);
    bytes[length] = '\0';
  }
  std::string_view view() const noexcept { return bytes; }
};

// The plugin call one thread is making (an event loop, or a pool thread).
// Written by that thread before and after each call; read by the supervisor
// once the worker is dead.
struct CallRecord {
  std::atomic<std::uint32_t> in_plugin{0};  // 1 while a plugin's handle() runs, or its loading code
  // While the plugin's code runs as it is loaded (its library's initialisers,
  // its factory): since when (CLOCK_MONOTONIC, ns), so that the supervisor
  // can stop a load that hangs. Else 0.
  std::atomic<std::int64_t> loading_since_ns{0};
  std::atomic<std::int32_t> fatal_signal{0};  // the signal that struck during the call
  std::atomic<std::uint32_t> exited{0};       // 1 when the plugin called exit()
  std::uint64_t generation = 0;
  FileIdentity file_identity;
  FixedText<64> file;  // the file name in the plugin folder
  FixedText<48> name;
  FixedText<32> version;
  FixedText<24> method;
  FixedText<200> target;
};

// Marks the calling thread as inside plugin code for its lifetime.
class InPlugin {
 public:
  explicit InPlugin(CallRecord& record) noexcept;
  ~InPlugin();
  InPlugin(const InPlugin&) = delete;
  InPlugin& operator=(const InPlugin&) = delete;

 private:
  CallRecord& record_;
  CallRecord* outer_;  // the thread's record before this call's, restored after it
};

// In a worker process: a fatal signal, or exit(), that strikes a thread in
// plugin code is noted in that thread's CallRecord before the process dies.
// The signal then takes its default course (a core dump where enabled).
void record_crashes_of_this_process();

// Plugin files (each version by its FileIdentity) whose methods answer 503. Written by the supervisor alone;
// read by every worker on its request path, without a lock.
class Quarantine {
 public:
  static constexpr std::size_t capacity = 64;

  // False when full: the plugin then goes on crashing workers, as without
  // a quarantine, and the supervisor says so. `while_loading`: it crashed
  // (or hung) as it was loaded, so a worker does not load it at all.
  bool add(const FileIdentity& plugin, bool while_loading = false) noexcept;
  void clear() noexcept;

  // Changes whenever the set does: a worker looks again only then.
  std::uint64_t version() const noexcept { return sequence_.load(std::memory_order_acquire); }
  bool contains(const FileIdentity& plugin) const noexcept { return find(plugin) != Found::no; }
  bool contains_as_unloadable(const FileIdentity& plugin) const noexcept {
    return find(plugin) == Found::unloadable;
  }

 private:
  enum class Found { no, yes, unloadable };
  Found find(const FileIdentity& plugin) const noexcept;

  struct Slot {
    std::atomic<std::uint64_t> device, inode, size;
    std::atomic<std::int64_t> modified_ns;
    std::atomic<std::uint32_t> while_loading;
  };
  std::atomic<std::uint64_t> sequence_{0};  // odd while the supervisor writes
  std::atomic<std::uint32_t> count_{0};
  Slot slots_[capacity] = {};
};

class Board {
 public:
  // Maps a board for `loops` event loops, each with a pool of `pool_threads`
  // threads, shared with processes forked later. Each pool thread has two
  // CallRecords: its own, and one for a thread that replaces it
  // (dispatch/plugin_pool.hpp).
  explicit Board(std::size_t loops, std::size_t pool_threads = 0);
  ~Board();
  Board(const Board&) = delete;
  Board& operator=(const Board&) = delete;

  std::size_t loops() const noexcept { return loops_; }
  // The event loop's own record.
  CallRecord& call(std::size_t loop) noexcept { return calls_[loop * per_loop_]; }
  // The record of the thread that loads the plugins, in the process whose
  // first loop is `loop`.
  CallRecord& load_call(std::size_t loop) noexcept { return calls_[loop * per_loop_ + 1]; }
  const CallRecord& load_call(std::size_t loop) const noexcept { return calls_[loop * per_loop_ + 1]; }
  // The records of the loop's pool threads.
  std::span<CallRecord> pool_calls(std::size_t loop) noexcept {
    return {calls_ + loop * per_loop_ + 2, per_loop_ - 2};
  }
  // The loop's own record, the loader's, then its pool threads'.
  std::span<CallRecord> all_calls(std::size_t loop) noexcept {
    return {calls_ + loop * per_loop_, per_loop_};
  }
  std::span<PaddedCounter> open_connections() noexcept { return {open_, loops_}; }
  std::span<metrics::Loop> loop_metrics() noexcept { return {metrics_, loops_}; }
  metrics::Events& events() noexcept { return header_->events; }
  Quarantine& quarantine() noexcept { return header_->quarantine; }
  std::atomic<std::uint64_t>& latest_generation() noexcept { return header_->latest_generation; }
  // The Retry-After of a quarantined plugin's 503.
  std::atomic<std::uint32_t>& quarantine_retry_after_s() noexcept {
    return header_->quarantine_retry_after_s;
  }

 private:
  struct Header {
    Quarantine quarantine;
    std::atomic<std::uint64_t> latest_generation{0};
    std::atomic<std::uint32_t> quarantine_retry_after_s{60};
    metrics::Events events;
  };

  std::size_t loops_;
  std::size_t per_loop_;  // CallRecords of each loop: its own, the loader's, then its pool threads'
  std::size_t bytes_;
  void* memory_;
  Header* header_;
  PaddedCounter* open_;
  metrics::Loop* metrics_;
  CallRecord* calls_;
};

}  // namespace verbd::board
