// How many changes have been made through the files store, counted by every
// process that opens the same root: the workers, isolated plugin processes,
// another verbd. The number lives in one file of the scratch folder,
// `writes`, mapped into each process, so a change made by any of them is
// seen by all at once, without a system call.
//
// The read cache (read_cache.hpp) uses it to know that nothing was written
// through verbd since it last looked at a file.
#pragma once

#include <atomic>
#include <cstdint>

namespace verbd::store {

class WriteCount {
 public:
  static constexpr const char* file_name = "writes";

  // Maps the count kept in `file_name` of the folder open as `folder`,
  // making it if need be. Throws std::runtime_error when it cannot.
  explicit WriteCount(int folder);
  ~WriteCount();
  WriteCount(const WriteCount&) = delete;
  WriteCount& operator=(const WriteCount&) = delete;

  std::uint64_t now() const noexcept { return counter().load(std::memory_order_acquire); }
  void add_one() noexcept { counter().fetch_add(1, std::memory_order_acq_rel); }

 private:
  // Atomic operations on memory shared between processes: lock-free, so
  // they keep no state outside these 8 bytes.
  static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);
  std::atomic_ref<std::uint64_t> counter() const noexcept { return std::atomic_ref<std::uint64_t>(*count_); }

  std::uint64_t* count_;
};

// Counts one change when it goes out of scope, whether the change was made
// or failed half-way: a reader that looks again finds what is there.
class CountedChange {
 public:
  explicit CountedChange(WriteCount& count) noexcept : count_(count) {}
  ~CountedChange() { count_.add_one(); }
  CountedChange(const CountedChange&) = delete;
  CountedChange& operator=(const CountedChange&) = delete;

 private:
  WriteCount& count_;
};

}  // namespace verbd::store
