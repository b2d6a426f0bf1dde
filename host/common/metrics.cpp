#include "common/metrics.hpp"

#include <algorithm>

namespace verbd::metrics {
namespace {

thread_local Loop* this_loop = nullptr;
std::atomic<Events*> process_events{nullptr};

}  // namespace

void count_in(Loop* loop) noexcept { this_loop = loop; }

void count_events_in(Events* events) noexcept { process_events.store(events, std::memory_order_release); }

Loop& loop() noexcept {
  thread_local Loop unread;
  return this_loop != nullptr ? *this_loop : unread;
}

Events& events() noexcept {
  static Events unread;
  Events* shared = process_events.load(std::memory_order_acquire);
  return shared != nullptr ? *shared : unread;
}

std::size_t method_slot(std::string_view method) noexcept {
  auto found = std::find(methods.begin(), methods.end(), method);
  return static_cast<std::size_t>(found - methods.begin());  // methods.size(): "other"
}

void count_response(std::string_view method, int status, std::uint64_t bytes,
                    std::chrono::microseconds took) noexcept {
  Loop& counters = loop();
  int status_class = std::clamp(status / 100, 1, 5) - 1;
  add(counters.responses[method_slot(method)][status_class]);
  add(counters.sent_bytes, bytes);
  auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(0, took.count()));
  auto bucket = std::lower_bound(latency_bounds_us.begin(), latency_bounds_us.end(), us) - latency_bounds_us.begin();
  add(counters.latency[bucket]);
  add(counters.latency_sum_us, us);
}

}  // namespace verbd::metrics
