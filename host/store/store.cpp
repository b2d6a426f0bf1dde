#include "store/store.hpp"

#include <utility>

namespace verbd::store {

std::unique_ptr<Store> make_store(const config::Store& config, bool clear_scratch) {
  if (config.backend == "memory") return make_memory_store();
  if (config.backend == "redis") return make_redis_store(config.redis);
  return make_files_store({config.root, config.fsync, clear_scratch, config.recheck});
}

namespace {
thread_local std::string unreachable;
}

void mark_unreachable(std::string why) noexcept { unreachable = std::move(why); }

// Asked twice on every plugin call, and nearly always with nothing marked.
std::string take_unreachable() noexcept {
  if (unreachable.empty()) return {};
  return std::exchange(unreachable, {});
}

}  // namespace verbd::store
