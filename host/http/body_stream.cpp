#include "http/body_stream.hpp"

#include <charconv>
#include <utility>

namespace verbd::http {

bool BodyStream::push(std::string_view piece) {
  std::unique_lock lock(mutex_);
  maker_waits_ = true;
  room_.wait(lock, [&] { return closed_ || end_ != End::open || waiting_.size() < capacity_; });
  maker_waits_ = false;
  progress_ = Clock::now();
  if (closed_ || end_ != End::open) return false;
  if (piece.empty()) return true;
  waiting_.append(piece);
  notify_locked();
  return true;
}

BodyStream::Clock::time_point BodyStream::last_progress() const {
  std::lock_guard lock(mutex_);
  return maker_waits_ ? Clock::now() : progress_;
}

void BodyStream::end(End how) noexcept {
  std::lock_guard lock(mutex_);
  if (end_ != End::open) return;
  end_ = how;
  room_.notify_all();
  notify_locked();
}

// With the lock held: the callback only posts to the connection's loop.
void BodyStream::notify_locked() {
  if (more_) std::exchange(more_, nullptr)();
}

BodyStream::End BodyStream::take(std::string& pieces) {
  std::lock_guard lock(mutex_);
  pieces.clear();
  pieces.swap(waiting_);
  room_.notify_all();
  return end_;  // cut short: what was taken is not sent, the plugin failed after it
}

void BodyStream::when_more(std::function<void()> more) {
  std::lock_guard lock(mutex_);
  if (!waiting_.empty() || end_ != End::open)
    more();
  else if (!closed_)
    more_ = std::move(more);
}

// The callback holds the connection: it goes here, so that a maker that
// never returns keeps nothing of the connection alive.
void BodyStream::close() noexcept {
  std::function<void()> dropped;
  std::lock_guard lock(mutex_);
  closed_ = true;
  dropped.swap(more_);
  room_.notify_all();
}

void append_chunk(std::string& out, std::string_view piece) {
  if (piece.empty()) return;  // an empty chunk would end the body
  char digits[17];
  auto end = std::to_chars(digits, digits + sizeof digits, piece.size(), 16).ptr;
  out.append(digits, end).append("\r\n").append(piece).append("\r\n");
}

}  // namespace verbd::http
