// Watches the plugin folder with inotify (through Asio, no polling) and
// calls `changed` once a plugin file has been written, moved in or out, or
// removed, and the folder has been quiet for a moment.
//
// A file still being written (created or modified, not yet closed) holds the
// reload back, so that a plain `cp` into the folder is never loaded half-copied.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <filesystem>
#include <functional>
#include <set>
#include <string>

namespace verbd::plugin {

class Watcher {
 public:
  Watcher(boost::asio::io_context& context, std::filesystem::path folder, std::function<void()> changed);

  // Starts watching; false with `error` set when the folder cannot be watched.
  bool start(std::string& error);
  void stop();

 private:
  boost::asio::awaitable<void> run();
  void take(const char* buffer, std::size_t size);
  void note(std::uint32_t mask, const std::string& name);
  void settle();

  boost::asio::posix::stream_descriptor events_;
  boost::asio::steady_timer quiet_;
  std::filesystem::path folder_;
  std::function<void()> changed_;
  std::set<std::string> being_written_;
  bool pending_ = false;  // a change not yet reloaded
  bool armed_ = false;    // the timer runs
};

}  // namespace verbd::plugin
