// The journal of the files store's durable writes: one file of the scratch
// folder, `journal`, shared by every process of one verbd.
//
// With `fsync = true`, a small change (a new version of at most
// `body_limit` bytes, an append's included, a file removed, moved or
// copied) is made durable by a record here (its path, media type and new
// version) instead of an fsync of its file and another of its folder. The
// record is appended and the journal's data synced (fdatasync) before the
// new file is renamed into place, so the bytes are on disk before their
// name, as with the fsyncs. The records of concurrent writes reach the disk
// in one journal commit of the filesystem, where each write's two fsyncs
// took two commits of their own.
//
// The files the records describe reach the disk later, when the journal is
// settled: `syncfs` makes every file of the filesystem durable, then the
// journal is emptied. It is settled when its records pass `settle_bytes`,
// every few seconds by the supervisor, at a clean stop, and before the
// changes it does not describe (a collection moved or copied, the root
// emptied), so that a record is never made again over a later change; a
// larger version, fsync'ed in place, is followed by a record that says so
// instead (made_durable). After a crash, the next start makes again what
// the last record of each path says (replay).
//
// A write learns whether a settle ran while it was being made from the
// settle count (`settles`), kept in the journal's first page, mapped into
// every process: odd while a settle runs. A settle that ran meanwhile may
// have emptied the journal of the write's record before the write's file
// was renamed into place; that write then fsyncs as it did without a journal.
#pragma once

#include "common/fd.hpp"

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace verbd::store {

class Journal {
 public:
  static constexpr const char* file_name = "journal";
  // New versions up to this size are journaled; larger ones are fsync'ed in
  // place (the journal would write their bytes twice).
  static constexpr std::size_t body_limit = 64 * 1024;
  // When the records pass this size, the write that passed it settles them,
  // which bounds the time a replay takes.
  static constexpr std::uint64_t settle_bytes = 8 << 20;
  // Records are appended in slots (the files store's: one per stripe of
  // paths), so that may_hold_records_in() can tell that none of a slot's
  // is left without reading the journal.
  static constexpr std::size_t slots = 1024;
  // An empty journal: its header alone.
  static constexpr std::uint64_t empty_size = 12288;

  // Which folder a write renamed its file into: its inode number, and when
  // it was made (nanoseconds; 0 where the filesystem does not say), which
  // tells it from a later folder given the same number. Not the device
  // number, which a restart of the machine may change.
  struct Folder {
    std::uint64_t inode = 0, born = 0;
    bool operator==(const Folder&) const = default;
  };

  // What a record says was done to a resource: its whole new version
  // written (an append's too), its file removed, or a new version made
  // durable in its file (fsync'ed: too large to record), which a replay
  // must not undo.
  // A file moved or copied in is a write whose dead properties and
  // creation time come with it, where a write keeps those of the file it
  // replaces.
  enum class Change : std::uint32_t { write = 1, remove = 2, made_durable = 3, transferred_in = 4 };

  // One change, as a replay makes it again: to `path`, whose file is in
  // `folder`. Only the last record of each path is made again (a write's
  // record holds the whole version). A folder moved or removed since is not
  // the one at the path's parent any more, and the record is skipped.
  struct Record {
    Change change = Change::write;
    std::string path;
    std::string media_type;
    std::string version;       // the new bytes of a write
    std::string properties;    // transferred_in: the dead properties, as the files store keeps them
    std::int64_t created = 0;  // transferred_in: when the resource was made (0: not known)
    Folder folder;
  };

  // A record to append, as views of the caller's bytes.
  struct Appended {
    Change change;
    std::string_view path, media_type, version;
    Folder folder;
    std::size_t slot;
    std::string_view properties = {};
    std::int64_t created = 0;
  };

  // The journal of the scratch folder open as `folder` (made if missing).
  // Throws std::runtime_error when it cannot be opened or is not a journal.
  explicit Journal(int folder);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Taken before a write is appended; settled_since(mark) says, after its
  // rename, whether a settle began or ran since.
  // A retired journal counts as settled since any mark: its records are
  // never replayed, so a write whose record went there fsyncs.
  std::uint64_t mark() const noexcept { return settles().load(std::memory_order_acquire); }
  bool settled_since(std::uint64_t mark) const noexcept {
    return mark % 2 == 1 || this->mark() != mark || !in_use();
  }

  // Appends one record, or two together (a move's), and waits until they
  // are on disk. False, with errno set, when they could not be, or when
  // another append's sync failed meanwhile (it may have been writing them);
  // the journal is settled then, so that a record that may not be whole on
  // disk never hides the ones after it from a replay. Refused (EIO) while
  // broken().
  bool append(std::initializer_list<Appended> records);

  bool holds_records() const noexcept { return appended().load(std::memory_order_acquire) > 0; }
  // False when no record appended in `slot` can be left: none was, or a
  // settle has run since. Called by the only writer of the slot's paths.
  bool may_hold_records_in(std::size_t slot) const noexcept;
  bool full() const noexcept { return appended().load(std::memory_order_acquire) >= settle_bytes; }

  // Makes every file of the filesystem durable and empties the journal.
  // False, with errno set, when the filesystem could not. The journal is
  // broken then, until a restart: a failed syncfs may have dropped pages
  // of the files the records describe, and a later one would not say so,
  // so the records are the only sure copy and stay for the next start's
  // replay. Meanwhile appends and settles are refused, so that no write
  // depends on a record behind a failed one, and none is undone by a replay.
  bool settle();
  bool broken() const noexcept { return broken_flag().load(std::memory_order_acquire) != 0; }

  // A journal whose file was removed or replaced while verbd ran would be
  // gone at the next start, with the records a replay needs. It is retired
  // when that is found: by the append that finds it, or by the supervisor,
  // which looks every second. What it recorded is settled, and writes are
  // made durable without it (in_use() is false) until a restart makes a new
  // one. True when it is retired.
  bool retire_if_unlinked();
  bool in_use() const noexcept { return retired().load(std::memory_order_acquire) == 0; }

  // For a replay, at a start, before any other process uses the journal:
  // the records in order, up to the first one a crash cut short
  // (`torn_bytes`: how many bytes from there to the end were left out),
  // then empty_out() once their changes were made again: it makes the
  // filesystem durable (syncfs), then empties the journal.
  std::vector<Record> records(std::uint64_t& torn_bytes) const;
  bool empty_out();

 private:
  // Atomic operations on the mapped first page, shared between processes.
  static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);
  std::atomic_ref<std::uint64_t> settles() const noexcept { return std::atomic_ref<std::uint64_t>(header_[0]); }
  std::atomic_ref<std::uint64_t> appended() const noexcept { return std::atomic_ref<std::uint64_t>(header_[1]); }
  std::atomic_ref<std::uint64_t> retired() const noexcept {
    return std::atomic_ref<std::uint64_t>(header_[2]);
  }
  std::atomic_ref<std::uint64_t> broken_flag() const noexcept {
    return std::atomic_ref<std::uint64_t>(header_[3]);
  }
  std::atomic_ref<std::uint64_t> slot_count(std::size_t slot) const noexcept {
    return std::atomic_ref<std::uint64_t>(slots_[slot % slots]);
  }
  // Linux tells a failed writeback once to each open file, and this
  // process's appends share one: of two syncs, the one told may not be the
  // one whose record was on the failed pages. So syncs take turns, and a
  // failure is counted before the next begins: an append fails when any
  // sync failed since its writev (`failures_before`, read before it).
  // Other processes have open files of their own, which are told too.
  // Taking turns, one sync covers every record written before it began:
  // the appends whose records it covered wait for it and make none.
  bool sync_appended(std::uint64_t failures_before);
  bool empty_records();
  void fill_slots(std::uint64_t value) noexcept;

  Fd file_;                 // appends (O_APPEND); its own open file, so its lock is this process's
  std::uint64_t* header_;   // mapped: the count of settles, the bytes appended, 1 once retired, 1 once broken
  std::uint64_t* slots_;    // the mapped count of settles at each slot's last record, plus one
  std::mutex settling_;     // one settle at a time in this process; a byte lock between processes
  std::mutex syncing_;      // one append's fdatasync at a time in this process
  std::atomic<std::uint64_t> appends_written_{0};  // in this process: their writevs done
  std::uint64_t appends_synced_ = 0;               // how many of those a sync covered (under syncing_)
  std::atomic<std::uint64_t> sync_failures_{0};    // appends' fdatasyncs that failed, in this process
};

}  // namespace verbd::store
