#include "plugin/generation.hpp"

#include <algorithm>

namespace verbd::plugin {

Generation::Generation(std::uint64_t number, std::vector<std::shared_ptr<const Plugin>> plugins)
    : number_(number), plugins_(std::move(plugins)) {
  for (const auto& plugin : plugins_)
    for (const auto& method : plugin->methods()) by_method_.emplace_back(method, plugin.get());
  std::sort(by_method_.begin(), by_method_.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [method, plugin] : by_method_) {
    if (!allow_.empty()) allow_ += ", ";
    allow_ += method;
  }
}

const Plugin* Generation::find(std::string_view method) const noexcept {
  for (const auto& [served, plugin] : by_method_)
    if (served == method) return plugin;
  return nullptr;
}

std::shared_ptr<const Plugin> Generation::from_file(const std::filesystem::path& file) const {
  for (const auto& plugin : plugins_)
    if (plugin->file() == file) return plugin;
  return nullptr;
}

Registry::Registry()
    : current_(std::make_shared<Generation>(0, std::vector<std::shared_ptr<const Plugin>>{})) {}

void Registry::publish(std::shared_ptr<const Generation> generation) {
  std::lock_guard lock(mutex_);
  current_ = std::move(generation);
  number_.store(current_->number(), std::memory_order_release);
}

std::shared_ptr<const Generation> Registry::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

}  // namespace verbd::plugin
