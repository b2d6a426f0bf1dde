// The body of a response that its plugin is still making (response_send in
// <verbd/plugin.h>): pieces handed from the thread that makes them to the
// connection that sends them.
//
// The maker (a pool thread) pushes pieces; push() waits while `capacity`
// bytes or more wait to be sent, so that a fast maker and a slow client
// hold a bounded amount of memory. The connection takes what is there when
// it can write, and asks to be told (when_more) when there is more.
//
// Either side may end it: the maker with finish() (the body is complete) or
// abort() (it is to be cut short), the connection with close() (the client
// has gone, or the connection is done with it), after which push() fails
// at once, so that the plugin learns it should stop.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace verbd::http {

class BodyStream {
 public:
  using Clock = std::chrono::steady_clock;
  enum class End { open, complete, cut_short };

  static constexpr std::size_t default_capacity = 256 * 1024;
  explicit BodyStream(std::size_t capacity = default_capacity) : capacity_(capacity) {}

  // The maker's side, on any thread. push() returns false when nobody
  // takes more (closed, or ended already).
  bool push(std::string_view piece);
  void finish() noexcept { end(End::complete); }
  void abort() noexcept { end(End::cut_short); }
  // When the maker last showed life: its last piece, or now while it waits
  // for the client to take what it sent (that wait is not its doing).
  Clock::time_point last_progress() const;

  // The connection's side, on its thread. take() moves what waits into
  // `pieces` (replacing its content) and says whether more will come after
  // it (open), none (complete), or the body is to be cut short now.
  End take(std::string& pieces);
  // `more` is called once, from any thread, as soon as there is something
  // to take or the end (at once if there is already); it must only arrange
  // for take() on the connection's thread.
  void when_more(std::function<void()> more);
  void close() noexcept;

 private:
  void end(End how) noexcept;
  void notify_locked();

  const std::size_t capacity_;
  mutable std::mutex mutex_;  // guards what follows
  std::condition_variable room_;
  std::string waiting_;  // pushed, not yet taken
  End end_ = End::open;
  bool closed_ = false;
  bool maker_waits_ = false;
  Clock::time_point progress_ = Clock::now();
  std::function<void()> more_;
};

// HTTP/1.1 chunked framing (RFC 9112 §7.1) of a body sent in pieces.
void append_chunk(std::string& out, std::string_view piece);
inline constexpr std::string_view last_chunk = "0\r\n\r\n";

}  // namespace verbd::http
