// The monotonic clock as the kernel last updated it, at its timer tick: a
// few milliseconds behind (a tick and a little more). Reading it is a read
// of memory the kernel shares with every process;
// std::chrono::steady_clock::now() also reads the processor's time-stamp
// counter and scales it, which a request pays for each time. Deadlines of
// seconds and a cache's recheck period need no more; a request's latency,
// which is measured in microseconds, takes steady_clock::now().
#pragma once

#include <chrono>
#include <ctime>

namespace verbd {

// The same time line as steady_clock (libstdc++ reads CLOCK_MONOTONIC for
// it), so the two compare: the coarse reading is a few milliseconds
// earlier, never later.
inline std::chrono::steady_clock::time_point coarse_now() noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return std::chrono::steady_clock::time_point(std::chrono::seconds(now.tv_sec) +
                                               std::chrono::nanoseconds(now.tv_nsec));
}

}  // namespace verbd
