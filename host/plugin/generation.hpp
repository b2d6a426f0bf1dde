// A generation: one immutable set of loaded plugins, indexed by method.
//
// A request holds its generation for its whole life, so a new set can be
// published at any time (SIGHUP, a changed plugin folder) without touching
// requests in flight; the old set is unloaded when its last holder lets go.
#pragma once

#include "plugin/plugin.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace verbd::plugin {

class Generation {
 public:
  Generation(std::uint64_t number, std::vector<std::shared_ptr<const Plugin>> plugins);

  // The plugin serving `method` (case-sensitive, as RFC 9110 §9.1 says), or null.
  const Plugin* find(std::string_view method) const noexcept;
  // "DELETE, GET, HEAD, POST, PUT": the Allow field's value.
  const std::string& allow() const noexcept { return allow_; }
  // The plugin loaded from `file`, or null.
  std::shared_ptr<const Plugin> from_file(const std::filesystem::path& file) const;
  std::uint64_t number() const noexcept { return number_; }
  const std::vector<std::shared_ptr<const Plugin>>& plugins() const noexcept { return plugins_; }

 private:
  std::uint64_t number_;
  std::vector<std::shared_ptr<const Plugin>> plugins_;
  std::vector<std::pair<std::string, const Plugin*>> by_method_;  // sorted by method
  std::string allow_;
};

// Where connections find the current generation. Publishing is rare and
// takes a lock; checking for a new one is one relaxed atomic load, so the
// request path shares no lock between connections.
class Registry {
 public:
  Registry();
  void publish(std::shared_ptr<const Generation> generation);
  std::shared_ptr<const Generation> current() const;
  std::uint64_t number() const noexcept { return number_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Generation> current_;
  std::atomic<std::uint64_t> number_{0};
};

}  // namespace verbd::plugin
