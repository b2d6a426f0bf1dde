// The threads that run the calls of plugins that may block: one pool per
// event loop, so that a plugin waiting on a database, a remote API or an
// fsync holds up its own request only, and the loop goes on serving its
// other connections.
//
//   - Threads start as calls need them, up to `threads`; a call that finds
//     them all busy waits in a queue of at most `queue` calls, and one more
//     is refused at once (submit() returns false: the dispatcher answers 503
//     with Retry-After), so that neither memory nor latency grows unbounded.
//   - A thread is woken for a call at once when the plugin's calls wait (an
//     fsync, a database, Redis: its thread sleeps in the kernel during the
//     call). A call of a plugin whose calls compute and return (a PUT
//     without fsync) waits instead for the thread that runs one such call
//     to take it next, as long as that call is younger than
//     `computing_for_at_most`: one thread on a core does the work of
//     several, without a wake-up per call, and without concurrent calls
//     contending for the kernel's locks on one folder. The pool learns
//     which calls wait from their last few (a thread's voluntary context
//     switches, getrusage); a plugin it has not seen yet is taken to wait.
//   - A watchdog thread times out a call still running after `timeout` (from
//     its start, or from its last sign of life: PoolTask::last_progress()), or
//     still queued after `timeout`: the task answers for it
//     (PoolTask::time_out()). A thread whose call cannot
//     be interrupted is written off, left to finish on its own, and replaced,
//     so that the pool keeps its capacity. Once as many threads are written
//     off as the pool has, `on_stuck` is called (once): the worker process
//     is then recycled, since only the end of a process frees such threads.
//
// Each thread notes its plugin calls in a CallRecord of its own on the board
// (board/board.hpp), as the event loops do, so that a crash on a pool thread
// names its plugin too. There are two records per thread: one for the
// thread, and one for a replacement; with none left, a thread written off
// is not replaced.
#pragma once

#include "board/board.hpp"
#include "config/config.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <span>

namespace verbd::dispatch {

// From [server] plugin_threads, [limits] plugin_queue and handler_timeout_ms.
struct PoolSettings {
  unsigned threads = 16;
  std::size_t queue = 1024;
  std::chrono::milliseconds timeout{30000};
  // A call of a plugin whose calls compute that has run this long is taken
  // to be waiting after all (not in the configuration: tests set it).
  std::chrono::microseconds computing_for_at_most{1000};
};

PoolSettings pool_settings_from(const config::Config& config);

// One call handed to the pool.
class PoolTask {
 public:
  using Clock = std::chrono::steady_clock;
  virtual ~PoolTask() = default;
  // On a pool thread; `record` is that thread's on the board.
  virtual void run(board::CallRecord& record) noexcept = 0;
  // On the watchdog thread, for a call past the time limit: gives it its
  // answer. `started`: run() goes on; then true when it was interrupted and
  // returns soon, false when its thread is to be written off. Otherwise the
  // call waited that long in the queue, and run() will not be called.
  virtual bool time_out(bool started) noexcept = 0;
  // The worker is ending: whoever waits for the answer is gone.
  virtual void abandon() noexcept = 0;
  // A call that shows life (a body sent in pieces) is timed from the last
  // sign of it rather than from its start.
  virtual Clock::time_point last_progress() const noexcept { return {}; }
  // Calls of one kind (one plugin's, for one method) are alike: the pool
  // learns from the calls before whether one waits (PluginPool). 0: a kind
  // of its own. Two kinds may share a number, at worst sharing what is learnt.
  virtual std::size_t kind() const noexcept { return 0; }
};

class PluginPool {
 public:
  // `records`: the pool's share of the board (Board::pool_calls()).
  PluginPool(PoolSettings settings, std::span<board::CallRecord> records, std::function<void()> on_stuck);
  // Abandons the calls not yet begun, gives those running a second to end,
  // then lets go of the threads still in one (written off, as after a time
  // limit); the others end.
  ~PluginPool();
  PluginPool(const PluginPool&) = delete;
  PluginPool& operator=(const PluginPool&) = delete;

  // Queues the call; false when every thread is busy and the queue is full.
  bool submit(std::shared_ptr<PoolTask> task);
  // Abandons every call queued or running (PoolTask::abandon()).
  void abandon_all() noexcept;

  const PoolSettings& settings() const noexcept;

 private:
  struct State;
  std::shared_ptr<State> state_;  // shared with the threads: one written off may outlive the pool
};

// Threads written off in this process, all pools together: a process with
// any must not run its static destructors while they may still run plugin
// code (main/worker.cpp ends it with _Exit).
unsigned threads_written_off() noexcept;

}  // namespace verbd::dispatch
