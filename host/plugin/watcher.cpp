#include "plugin/watcher.hpp"

#include "log/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/inotify.h>

#include <cerrno>
#include <cstring>

namespace verbd::plugin {

namespace asio = boost::asio;

// Long enough to gather a burst (copying several plugins, a package
// upgrade) into one reload, short enough that a change takes effect well
// within a second.
constexpr std::chrono::milliseconds quiet_period{150};

Watcher::Watcher(asio::io_context& context, std::filesystem::path folder, std::function<void()> changed)
    : events_(context), quiet_(context), folder_(std::move(folder)), changed_(std::move(changed)) {}

bool Watcher::start(std::string& error) {
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    error = std::string("inotify: ") + std::strerror(errno);
    return false;
  }
  events_.assign(fd);
  std::uint32_t mask = IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE;
  if (::inotify_add_watch(fd, folder_.c_str(), mask) < 0) {
    error = "cannot watch " + folder_.string() + ": " + std::strerror(errno);
    return false;
  }
  asio::co_spawn(events_.get_executor(), run(), asio::detached);
  return true;
}

void Watcher::stop() {
  boost::system::error_code ignored;
  events_.close(ignored);
  quiet_.cancel();
}

asio::awaitable<void> Watcher::run() {
  char buffer[8192];  // in the coroutine frame, whose alignment is not inotify_event's
  while (true) {
    auto [error, size] =
        co_await events_.async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
    if (error) co_return;
    take(buffer, size);
    settle();
  }
}

// The events in one read: a header each, then its NUL-padded name.
void Watcher::take(const char* buffer, std::size_t size) {
  for (std::size_t at = 0; at + sizeof(inotify_event) <= size;) {
    inotify_event event;
    std::memcpy(&event, buffer + at, sizeof event);
    if (event.len > 0) note(event.mask, buffer + at + sizeof event);
    at += sizeof event + event.len;
  }
}

void Watcher::note(std::uint32_t mask, const std::string& name) {
  if (std::filesystem::path(name).extension() != ".so") return;
  if (mask & (IN_CREATE | IN_MODIFY)) being_written_.insert(name);
  if (mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)) {
    being_written_.erase(name);
    pending_ = true;
  }
}

// The first change arms the timer; changes within its period join that
// reload, so a steady stream of changes still reloads every period.
void Watcher::settle() {
  if (!pending_ || !being_written_.empty() || armed_) return;
  armed_ = true;
  quiet_.expires_after(quiet_period);
  quiet_.async_wait([this](boost::system::error_code error) {
    armed_ = false;
    if (error) return;
    if (!being_written_.empty() || !pending_) return;
    pending_ = false;
    changed_();
  });
}

}  // namespace verbd::plugin
