// The counters behind the Prometheus page ([metrics], supervisor/
// metrics_page.hpp): plain integers in the board's shared memory, so that
// the supervisor adds up every worker process's and a worker that dies
// loses none of them.
//
// Loop: what one event loop counts on its request path. Only that loop's
// thread writes it, so an increment is a load and a store, not a locked
// instruction; the supervisor reads it at any time (relaxed atomics).
// Events: what is rare and may come from any thread or process (a plugin
// timing out, a store error, a crash): atomic additions.
//
// Each thread counts where count_in() pointed it; a thread or test that
// was pointed nowhere counts into a sink of its own, which nobody reads.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace verbd::metrics {

using Counter = std::atomic<std::uint64_t>;

// Requests are counted by method: these, and "other" for the rest.
inline constexpr std::array<std::string_view, 14> methods{
    "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "PROPFIND", "PROPPATCH", "MKCOL",
    "COPY", "MOVE", "LOCK", "UNLOCK"};
inline constexpr std::size_t method_slots = methods.size() + 1;
// The upper bounds of the latency histogram's buckets, in microseconds; a
// last bucket takes the rest (+Inf).
inline constexpr std::array<std::uint64_t, 14> latency_bounds_us{
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};

struct alignas(64) Loop {
  Counter responses[method_slots][5] = {};  // by method, by status class 1xx..5xx
  Counter latency[latency_bounds_us.size() + 1] = {};
  Counter latency_sum_us{0};
  Counter received_bytes{0}, sent_bytes{0};
  Counter tls_handshakes{0}, tls_handshake_failures{0};
};

struct Events {
  Counter plugin_errors{0};      // a plugin failed or broke the contract: 500
  Counter plugin_timeouts{0};    // no answer within limits.handler_timeout_ms: 503
  Counter plugin_queue_full{0};  // every plugin thread busy and the queue full: 503
  Counter plugin_crashes{0};     // a worker process died in plugin code
  Counter quarantines{0};        // a plugin quarantined for crashing
  Counter worker_restarts{0};
  Counter store_errors{0};  // a store call failed for a reason not the client's (I/O, space)
};

void count_in(Loop* loop) noexcept;      // for the calling thread
void count_events_in(Events* events) noexcept;  // for the whole process
Loop& loop() noexcept;
Events& events() noexcept;

// One more of `counter`, by its only writer.
inline void add(Counter& counter, std::uint64_t n = 1) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
// One more of `counter`, by any thread.
inline void add_shared(Counter& counter, std::uint64_t n = 1) noexcept {
  counter.fetch_add(n, std::memory_order_relaxed);
}

std::size_t method_slot(std::string_view method) noexcept;

// A response queued: its method, status, bytes and how long it took from the
// request's first byte.
void count_response(std::string_view method, int status, std::uint64_t bytes, std::chrono::microseconds took) noexcept;

}  // namespace verbd::metrics
