// How many connections may be open at once, all workers together
// ([limits] max_connections). Each connection holds a Slot for as long as it
// lives; when none is free, the server answers 503 and closes instead.
#pragma once

#include <atomic>
#include <cstddef>
#include <utility>

namespace verbd::net {

class ConnectionSlots {
 public:
  explicit ConnectionSlots(std::size_t max) : free_(max) {}

  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)) {}
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (owner_ != nullptr) owner_->free_.fetch_add(1, std::memory_order_relaxed);
    }
    explicit operator bool() const noexcept { return owner_ != nullptr; }

   private:
    friend class ConnectionSlots;
    explicit Slot(ConnectionSlots* owner) : owner_(owner) {}
    ConnectionSlots* owner_ = nullptr;
  };

  // A slot, or an empty one when the maximum is reached.
  Slot take() noexcept {
    auto free = free_.load(std::memory_order_relaxed);
    while (free > 0)
      if (free_.compare_exchange_weak(free, free - 1, std::memory_order_relaxed)) return Slot(this);
    return {};
  }

 private:
  std::atomic<std::size_t> free_;
};

}  // namespace verbd::net
