// The writing of a spooled request body (see Spooler in http/parser.hpp) to
// its file, away from the event loop.
//
// A write to a file can wait for the disk: for up to 200 ms at a time when
// the kernel throttles a process with too many dirty pages, and
// sync_file_range waits when the disk's queue is full. On the event loop
// such a wait would hold up every connection of the worker. So the parser
// hands the body's bytes to a SpoolWriter, which copies them, and one thread
// per process writes them, in order, starting the disk writing every few
// MiB (sync_file_range) so that the fsync that makes an upload durable finds
// most of it written.
//
// The connection reads no more of a body while it is behind() (the disk
// slower than the network), so that memory stays bounded, and hands the
// request on only once it is drained(). It learns of either change through
// when_changed().
#pragma once

#include "common/fd.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace verbd::http {

class SpoolWriter : public std::enable_shared_from_this<SpoolWriter> {
 public:
  static constexpr std::size_t behind_bytes = 256 * 1024;

  // `file`: a descriptor of its own, since the request's may be closed first.
  explicit SpoolWriter(Fd file) : file_(std::move(file)) {}

  // On the event loop: copies `bytes`, to be written after those before.
  void append(std::string_view bytes);
  // More than behind_bytes wait to be written.
  bool behind() const;
  // Everything appended is written, or a write failed.
  bool drained() const;
  // The errno of the write that failed (nothing more is written then), or 0.
  int error() const;
  // `changed` is called once, from the writing thread, when the writer
  // takes what waits (it is no longer behind) or has written it all; at
  // once when it is drained already. It must only post to the loop.
  void when_changed(std::function<void()> changed);
  // The request is over: what waits is dropped, and the callback with it.
  void abandon() noexcept;

 private:
  friend class SpoolThread;
  // On the writing thread: writes what waits; true when more came meanwhile.
  bool write_waiting();
  void write_all(std::string_view bytes);
  void start_writeback();
  void notify_locked();

  Fd file_;
  mutable std::mutex mutex_;  // guards what follows
  std::string waiting_;
  bool queued_ = false;  // with the writing thread, or being written
  int error_ = 0;
  std::function<void()> changed_;

  // The writing thread's own.
  std::string writing_;
  std::uint64_t written_ = 0, unflushed_ = 0;
};

}  // namespace verbd::http
