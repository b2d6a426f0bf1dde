#include "board/board.hpp"

#include <signal.h>
#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>

namespace verbd::board {
namespace {

// The record of the plugin call this thread is in; the crash handler and
// the exit handler read it.
thread_local CallRecord* current_call = nullptr;

// A thread that overflows its stack cannot run a signal handler on it: each
// thread that calls plugins gets an alternate stack for it, unless it has one
// already (AddressSanitizer gives every thread its own), and gives it back
// when the thread ends.
class AlternateSignalStack {
 public:
  AlternateSignalStack() noexcept {
    stack_t current{};
    if (::sigaltstack(nullptr, &current) != 0 || (current.ss_flags & SS_DISABLE) == 0) return;
    void* memory = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) return;
    stack_t stack{};
    stack.ss_sp = memory;
    stack.ss_size = size;
    if (::sigaltstack(&stack, nullptr) == 0)
      memory_ = memory;
    else
      ::munmap(memory, size);
  }
  ~AlternateSignalStack() {
    if (memory_ == nullptr) return;
    stack_t none{};
    none.ss_flags = SS_DISABLE;
    ::sigaltstack(&none, nullptr);
    ::munmap(memory_, size);
  }
  AlternateSignalStack(const AlternateSignalStack&) = delete;
  AlternateSignalStack& operator=(const AlternateSignalStack&) = delete;

 private:
  static constexpr std::size_t size = 64 * 1024;
  void* memory_ = nullptr;
};

void on_fatal_signal(int signal) {
  if (CallRecord* call = current_call; call != nullptr && call->in_plugin.load(std::memory_order_relaxed))
    call->fatal_signal.store(signal, std::memory_order_relaxed);
  // SA_RESETHAND restored the default action: once this returns, the
  // signal, raised again, ends the process as it would have.
  ::raise(signal);
}

void on_exit() {
  if (CallRecord* call = current_call; call != nullptr && call->in_plugin.load(std::memory_order_relaxed))
    call->exited.store(1, std::memory_order_relaxed);
}

}  // namespace

InPlugin::InPlugin(CallRecord& record) noexcept : record_(record), outer_(current_call) {
  static thread_local const AlternateSignalStack alternate_stack;
  current_call = &record;
  record.in_plugin.store(1, std::memory_order_release);
}

// The record may go before the thread does (an isolated plugin's process
// unmaps its board, then exits): the exit handler must not find it then.
InPlugin::~InPlugin() {
  record_.in_plugin.store(0, std::memory_order_release);
  current_call = outer_;
}

void record_crashes_of_this_process() {
  struct sigaction action {};
  action.sa_handler = on_fatal_signal;
  action.sa_flags = SA_ONSTACK | SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  for (int signal : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS})
    ::sigaction(signal, &action, nullptr);
  std::atexit(on_exit);
}

bool Quarantine::add(const FileIdentity& key, bool while_loading) noexcept {
  auto count = count_.load(std::memory_order_relaxed);
  if (contains(key)) return true;
  if (count == capacity) return false;
  auto sequence = sequence_.load(std::memory_order_relaxed);
  sequence_.store(sequence + 1, std::memory_order_relaxed);  // odd: readers wait
  std::atomic_thread_fence(std::memory_order_release);
  Slot& slot = slots_[count];
  slot.device.store(key.device, std::memory_order_relaxed);
  slot.inode.store(key.inode, std::memory_order_relaxed);
  slot.size.store(key.size, std::memory_order_relaxed);
  slot.modified_ns.store(key.modified_ns, std::memory_order_relaxed);
  slot.while_loading.store(while_loading ? 1 : 0, std::memory_order_relaxed);
  count_.store(count + 1, std::memory_order_relaxed);
  sequence_.store(sequence + 2, std::memory_order_release);
  return true;
}

void Quarantine::clear() noexcept {
  auto sequence = sequence_.load(std::memory_order_relaxed);
  sequence_.store(sequence + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  count_.store(0, std::memory_order_relaxed);
  sequence_.store(sequence + 2, std::memory_order_release);
}

// A seqlock read: scan, and scan again if the supervisor wrote meanwhile.
Quarantine::Found Quarantine::find(const FileIdentity& key) const noexcept {
  while (true) {
    auto before = sequence_.load(std::memory_order_acquire);
    if (before % 2 != 0) continue;
    Found found = Found::no;
    auto count = count_.load(std::memory_order_relaxed);
    for (std::uint32_t i = 0; i < count && i < capacity && found == Found::no; ++i) {
      const Slot& slot = slots_[i];
      if (slot.device.load(std::memory_order_relaxed) == key.device &&
          slot.inode.load(std::memory_order_relaxed) == key.inode &&
          slot.size.load(std::memory_order_relaxed) == key.size &&
          slot.modified_ns.load(std::memory_order_relaxed) == key.modified_ns)
        found = slot.while_loading.load(std::memory_order_relaxed) != 0 ? Found::unloadable : Found::yes;
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (sequence_.load(std::memory_order_relaxed) == before) return found;
  }
}

Board::Board(std::size_t loops, std::size_t pool_threads) : loops_(loops), per_loop_(2 + 2 * pool_threads) {
  std::size_t header = (sizeof(Header) + 63) / 64 * 64;
  std::size_t calls = loops * per_loop_;
  bytes_ =
      header + loops * sizeof(PaddedCounter) + loops * sizeof(metrics::Loop) + calls * sizeof(CallRecord);
  memory_ = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory_ == MAP_FAILED)
    throw std::runtime_error(std::string("cannot map the shared board: ") + std::strerror(errno));
  auto* at = static_cast<char*>(memory_);
  header_ = new (at) Header;
  open_ = reinterpret_cast<PaddedCounter*>(at + header);
  metrics_ = reinterpret_cast<metrics::Loop*>(at + header + loops * sizeof(PaddedCounter));
  calls_ =
      reinterpret_cast<CallRecord*>(at + header + loops * (sizeof(PaddedCounter) + sizeof(metrics::Loop)));
  for (std::size_t i = 0; i < loops; ++i) new (open_ + i) PaddedCounter;
  for (std::size_t i = 0; i < loops; ++i) new (metrics_ + i) metrics::Loop;
  for (std::size_t i = 0; i < calls; ++i) new (calls_ + i) CallRecord;
}

Board::~Board() {
  std::destroy_n(calls_, loops_ * per_loop_);
  std::destroy_n(metrics_, loops_);
  std::destroy_n(open_, loops_);
  std::destroy_at(header_);
  ::munmap(memory_, bytes_);
}

}  // namespace verbd::board
