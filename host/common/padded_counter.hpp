// A counter alone on its cache line, so that counters written by different
// threads (or processes, in shared memory) do not slow each other down.
#pragma once

#include <atomic>
#include <cstdint>

namespace verbd {

struct alignas(64) PaddedCounter {
  std::atomic<std::uint64_t> value{0};
};

}  // namespace verbd
