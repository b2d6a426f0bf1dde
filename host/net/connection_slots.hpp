// How many connections may be open at once, all event loops of all worker
// processes together ([limits] max_connections). Each connection holds a
// Slot for as long as it lives; when none is free, the server answers 503
// and closes instead.
//
// Each event loop counts its own connections, in a counter only it writes
// (on the shared board when verbd runs worker processes, so that the
// supervisor can reset a dead worker's counts). A loop about to accept adds
// up every counter. Two loops accepting at the same instant may both take
// the last free slot: the maximum can be passed by at most the number of
// loops minus one, for as long as those connections last.
#pragma once

#include "common/padded_counter.hpp"

#include <cstddef>
#include <span>
#include <utility>

namespace verbd::net {

class ConnectionSlots {
 public:
  // `counters`: one per event loop, of this process and of the others.
  ConnectionSlots(std::size_t max, std::span<PaddedCounter> counters) : max_(max), counters_(counters) {}

  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept : counter_(std::exchange(other.counter_, nullptr)) {}
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (counter_ != nullptr) counter_->fetch_sub(1, std::memory_order_relaxed);
    }
    explicit operator bool() const noexcept { return counter_ != nullptr; }

   private:
    friend class ConnectionSlots;
    explicit Slot(std::atomic<std::uint64_t>* counter) : counter_(counter) {}
    std::atomic<std::uint64_t>* counter_ = nullptr;
  };

  // A slot counted for event loop `loop`, or an empty one when the maximum is reached.
  Slot take(std::size_t loop) noexcept {
    std::uint64_t open = 0;
    for (const auto& counter : counters_) open += counter.value.load(std::memory_order_relaxed);
    if (open >= max_) return {};
    auto& own = counters_[loop].value;
    own.fetch_add(1, std::memory_order_relaxed);
    return Slot(&own);
  }

 private:
  std::size_t max_;
  std::span<PaddedCounter> counters_;
};

}  // namespace verbd::net
