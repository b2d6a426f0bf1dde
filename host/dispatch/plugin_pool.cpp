#include "dispatch/plugin_pool.hpp"

#include "common/slow_waits.hpp"
#include "log/log.hpp"

#include <pthread.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

namespace verbd::dispatch {
namespace {

using Clock = std::chrono::steady_clock;

// How many of a plugin's calls the pool remembers, in effect: each call
// that waited counts one up, each that did not one down, within these.
constexpr int waits_remembered = 3;

// How often the calling thread has waited so far: slept in the kernel (an
// fsync, a socket, a lock, a timer: its voluntary context switches), or
// waited on another program by the host's own account (common/slow_waits.hpp).
unsigned long waits_so_far() noexcept {
  rusage usage{};
  ::getrusage(RUSAGE_THREAD, &usage);
  return static_cast<unsigned long>(usage.ru_nvcsw) + slow_waits;
}

std::atomic<unsigned> written_off_in_process{0};

spdlog::logger& log() {
  static auto& logger = verbd::log::get("plugins");
  return logger;
}

}  // namespace

unsigned threads_written_off() noexcept { return written_off_in_process.load(); }

PoolSettings pool_settings_from(const config::Config& config) {
  return {config.server.plugin_threads, config.limits.plugin_queue, config.limits.handler_timeout};
}

// One pool thread, as the pool keeps track of it.
struct Slot {
  board::CallRecord* record = nullptr;
  std::thread thread;
  std::shared_ptr<PoolTask> task;  // the call it runs, if any
  bool computes = false;           // the call is of a plugin whose calls compute
  Clock::time_point started{};
  Clock::time_point deadline{};
  bool timed_out = false;    // the watchdog has answered for its call
  bool written_off = false;  // its call could not be interrupted: it was replaced
};

struct PluginPool::State : std::enable_shared_from_this<PluginPool::State> {
  PoolSettings settings;
  std::span<board::CallRecord> records;
  std::function<void()> on_stuck;

  std::mutex mutex;
  std::condition_variable work_ready;  // a thread was promised to a call, or the pool is ending
  std::condition_variable watch;       // a deadline earlier than watch_until, or the pool is ending
  std::condition_variable call_ended;  // (while the pool is ending)
  struct Queued {
    std::shared_ptr<PoolTask> task;
    Clock::time_point deadline;  // for a thread to take it
  };
  std::deque<Queued> queue;
  std::vector<std::unique_ptr<Slot>> slots;
  std::thread watchdog;
  // When the watchdog wakes next, set as it goes to sleep (max: only when
  // woken). It is woken for a deadline earlier than that; as each deadline
  // is now + the time limit, later than every one before, that is only when
  // it sleeps with nothing to watch: not once a call. It also wakes when a
  // call that computes has run computing_for_at_most with a call queued
  // behind it (computing_until()).
  Clock::time_point watch_until = Clock::time_point::max();
  unsigned idle = 0;         // threads waiting for a call
  std::size_t promised = 0;  // calls queued that an idle thread was woken (or started) for
  unsigned running = 0;      // calls running, on threads not written off
  unsigned stuck = 0;        // threads written off that have not come back
  bool stuck_reported = false;
  bool ending = false;
  // Per kind of call (PoolTask::kind()): whether its calls wait, counted
  // as waits_remembered says.
  std::unordered_map<std::size_t, int> waits;

  // With the lock held: the threads not written off.
  unsigned live_threads() const {
    return static_cast<unsigned>(
        std::count_if(slots.begin(), slots.end(), [](const auto& slot) { return !slot->written_off; }));
  }

  // With the lock held: the record for one more thread, or null when the
  // pool may not have one more.
  board::CallRecord* record_for_new_thread() {
    if (live_threads() >= settings.threads) return nullptr;
    for (auto& record : records)
      if (std::none_of(slots.begin(), slots.end(), [&](const auto& slot) { return slot->record == &record; }))
        return &record;
    return nullptr;
  }

  // With the lock held: how many more calls could begin now, on threads
  // waiting or on threads the pool may add.
  std::size_t threads_to_spare() const {
    std::size_t may_add = settings.threads - std::min(live_threads(), settings.threads);
    std::size_t records_free = records.size() - slots.size();
    return idle + std::min(may_add, records_free);
  }

  // With the lock held: whether the calls of this kind have been seen to
  // return without waiting. Unknown ones are taken to wait.
  bool computes(std::size_t kind) const {
    auto known = kind != 0 ? waits.find(kind) : waits.end();
    return known != waits.end() && known->second < 0;
  }

  // With the lock held, after a call of `kind`.
  void learn(std::size_t kind, bool waited) {
    if (kind == 0) return;
    if (waits.size() >= 1024 && !waits.contains(kind)) waits.clear();  // plugins swapped many times
    int& count = waits[kind];
    count = std::clamp(count + (waited ? 1 : -1), -waits_remembered, waits_remembered);
  }

  // With the lock held: until when a call running may be computing rather
  // than waiting (Clock::time_point::min(): none may). A call promised a
  // thread is about to begin.
  Clock::time_point computing_until(Clock::time_point now) const {
    if (promised > 0) return now + settings.computing_for_at_most;
    Clock::time_point until = Clock::time_point::min();
    for (const auto& slot : slots)
      if (slot->task && slot->computes && !slot->timed_out && !slot->written_off)
        until = std::max(until, slot->started + settings.computing_for_at_most);
    return until;
  }

  // With the lock held: whether a call queued has no thread yet and could
  // have one.
  bool waits_for_a_thread() const { return queue.size() > promised && threads_to_spare() > promised; }

  // With the lock held: a thread for the first call queued without one,
  // when the call queued last may wait (`may_wait`) or no call running may
  // be computing. The caller notifies work_ready.
  bool wake_for_queued(Clock::time_point now, bool may_wait) {
    if (!waits_for_a_thread() || (!may_wait && computing_until(now) > now)) return false;
    ++promised;
    add_thread_if_needed();
    return true;
  }

  // With the lock held. A thread for one more call, if the pool may have it.
  void add_thread_if_needed() {
    if (promised <= idle) return;
    board::CallRecord* record = record_for_new_thread();
    if (record == nullptr) return;
    auto slot = std::make_unique<Slot>();
    slot->record = record;
    try {
      slot->thread = std::thread([self = shared_from_this(), raw = slot.get()] { self->work(*raw); });
    } catch (const std::system_error& e) {
      log().error("cannot start a plugin thread: {}", e.what());
      return;
    }
    if (!watchdog.joinable())
      watchdog = std::thread([self = shared_from_this()] { self->watch_deadlines(); });
    slots.push_back(std::move(slot));
  }

  // A thread woken for a call runs it, then each call queued meanwhile,
  // before it waits again.
  void work(Slot& slot) {
    ::pthread_setname_np(::pthread_self(), "plugin call");
    std::unique_lock lock(mutex);
    while (true) {
      ++idle;
      work_ready.wait(lock, [&] { return ending || promised > 0; });
      --idle;
      if (ending) return;
      --promised;
      do {
        if (!run_first_queued(slot, lock)) return;
      } while (!queue.empty() && !ending);
    }
  }

  // With the lock held, and a call queued. False when the thread was
  // written off meanwhile: it ends.
  bool run_first_queued(Slot& slot, std::unique_lock<std::mutex>& lock) {
    slot.task = take_first_queued();
    slot.computes = computes(slot.task->kind());
    slot.started = Clock::now();
    slot.deadline = slot.started + settings.timeout;
    slot.timed_out = false;
    ++running;
    if (slot.deadline < watch_until) watch.notify_one();
    auto task = slot.task;
    lock.unlock();
    unsigned long waits_before = waits_so_far();
    task->run(*slot.record);
    bool waited = waits_so_far() != waits_before;
    lock.lock();
    learn(task->kind(), waited);
    task.reset();
    slot.task.reset();
    if (slot.written_off) {
      come_back(slot);
      return false;
    }
    --running;
    if (ending) call_ended.notify_all();
    return true;
  }

  // With the lock held: a thread that takes a call keeps the promises to
  // the calls still queued, and no more.
  std::shared_ptr<PoolTask> take_first_queued() {
    auto task = std::move(queue.front().task);
    queue.pop_front();
    promised = std::min(promised, queue.size());
    return task;
  }

  // With the lock held: the thread is left to end on its own.
  void let_go(Slot& slot) {
    slot.written_off = true;
    slot.thread.detach();
    --running;
    ++stuck;
    ++written_off_in_process;
  }

  // With the lock held: a thread written off has finished its call at last.
  // It ends; its slot (and record) may serve a replacement.
  void come_back(Slot& slot) {
    --stuck;
    --written_off_in_process;
    if (!ending) log().warn("a plugin call written off after its time limit has returned; its thread ends");
    std::erase_if(slots, [&](const auto& each) { return each.get() == &slot; });
  }

  // The watchdog: sleeps until the earliest deadline of the calls running
  // or queued, and answers for each call past it.
  void watch_deadlines() {
    ::pthread_setname_np(::pthread_self(), "plugin watch");
    std::unique_lock lock(mutex);
    while (!ending) {
      auto now = Clock::now();
      if (!queue.empty() && queue.front().deadline <= now) {  // the oldest is first
        time_out_queued(lock);
        continue;
      }
      if (wake_for_queued(now, false)) {
        work_ready.notify_one();
        continue;
      }
      auto earliest = queue.empty() ? Clock::time_point::max() : queue.front().deadline;
      if (waits_for_a_thread()) earliest = std::min(earliest, computing_until(now));
      Slot* overdue = nullptr;
      for (auto& slot : slots) {
        if (!slot->task || slot->timed_out) continue;
        if (slot->deadline <= now) {
          auto progress = slot->task->last_progress();
          if (progress != Clock::time_point{} && progress + settings.timeout > now)
            slot->deadline = progress + settings.timeout;
          else
            overdue = slot.get();
        }
        earliest = std::min(earliest, slot->deadline);
      }
      if (overdue != nullptr) {
        time_out_running(*overdue, lock);
        continue;
      }
      watch_until = earliest;
      if (earliest == Clock::time_point::max())
        watch.wait(lock);
      else
        watch.wait_until(lock, earliest);
    }
  }

  // Each task answers for itself outside the pool's lock: it logs.
  void time_out_queued(std::unique_lock<std::mutex>& lock) {
    auto task = take_first_queued();
    lock.unlock();
    task->time_out(false);
    lock.lock();
  }

  void time_out_running(Slot& slot, std::unique_lock<std::mutex>& lock) {
    slot.timed_out = true;
    auto task = slot.task;
    lock.unlock();
    bool interrupted = task->time_out(true);
    lock.lock();
    // The pool may be ending (its destructor lets slots go), or the call may
    // have ended meanwhile.
    if (ending || interrupted || slot.task != task) return;
    write_off(slot);
  }

  // With the lock held.
  void write_off(Slot& slot) {
    let_go(slot);
    if (wake_for_queued(Clock::now(), true)) work_ready.notify_one();
    if (std::none_of(slots.begin(), slots.end(), [](const auto& each) { return !each->written_off; }) &&
        !queue.empty())
      log().error("no plugin thread left to replace the one written off: the calls queued wait");
    if (stuck < settings.threads || stuck_reported) return;
    stuck_reported = true;
    if (on_stuck) on_stuck();
  }
};

PluginPool::PluginPool(PoolSettings settings, std::span<board::CallRecord> records,
                       std::function<void()> on_stuck)
    : state_(std::make_shared<State>()) {
  state_->settings = settings;
  state_->records = records;
  state_->on_stuck = std::move(on_stuck);
}

// The worker's drain has given the calls running their time already: they
// get a moment more to end (one may be all but done), then the threads still
// in one are let go rather than waited for.
PluginPool::~PluginPool() {
  constexpr std::chrono::seconds grace{1};
  std::vector<std::thread> threads;
  {
    std::unique_lock lock(state_->mutex);
    for (auto& queued : state_->queue) queued.task->abandon();
    state_->queue.clear();
    state_->promised = 0;
    state_->ending = true;
    state_->work_ready.notify_all();
    state_->watch.notify_all();
    state_->call_ended.wait_for(lock, grace, [&] { return state_->running == 0; });
    for (auto& slot : state_->slots) {
      if (slot->written_off) continue;
      if (slot->task)
        state_->let_go(*slot);
      else
        threads.push_back(std::move(slot->thread));
    }
    if (state_->watchdog.joinable()) threads.push_back(std::move(state_->watchdog));
  }
  for (auto& thread : threads) thread.join();
}

bool PluginPool::submit(std::shared_ptr<PoolTask> task) {
  std::unique_lock lock(state_->mutex);
  auto& state = *state_;
  if (state.queue.size() >= state.settings.queue + state.threads_to_spare()) return false;
  auto now = Clock::now();
  bool computes = state.computes(task->kind());
  state.queue.push_back({std::move(task), now + state.settings.timeout});
  bool wake_thread = state.wake_for_queued(now, !computes);
  // Else a thread that finishes takes it, or the watchdog wakes one when
  // the calls running may all be waiting.
  auto watch_from = state.queue.back().deadline;
  if (state.waits_for_a_thread()) watch_from = std::min(watch_from, state.computing_until(now));
  bool wake_watchdog = watch_from < state.watch_until;
  lock.unlock();
  if (wake_thread) state.work_ready.notify_one();
  if (wake_watchdog) state.watch.notify_one();
  return true;
}

void PluginPool::abandon_all() noexcept {
  std::lock_guard lock(state_->mutex);
  for (auto& queued : state_->queue) queued.task->abandon();
  for (auto& slot : state_->slots)
    if (slot->task) slot->task->abandon();
}

const PoolSettings& PluginPool::settings() const noexcept { return state_->settings; }

}  // namespace verbd::dispatch
