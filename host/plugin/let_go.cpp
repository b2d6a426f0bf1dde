#include "plugin/let_go.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

namespace verbd::plugin {
namespace {

class LettingGo {
 public:
  static LettingGo& instance() {
    static LettingGo letting_go;
    return letting_go;
  }

  void hand_over(std::shared_ptr<const Generation> generation) {
    {
      std::lock_guard lock(mutex_);
      handed_over_.push_back(std::move(generation));
    }
    changed_.notify_all();
  }

  bool done_within(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [this] { return handed_over_.empty() && !tearing_down_; });
  }

  ~LettingGo() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

 private:
  LettingGo() = default;

  void run() {
    std::unique_lock lock(mutex_);
    while (true) {
      changed_.wait(lock, [this] { return stopping_ || !handed_over_.empty(); });
      if (handed_over_.empty()) return;
      auto generation = std::move(handed_over_.front());
      handed_over_.pop_front();
      tearing_down_ = true;
      lock.unlock();
      generation.reset();  // the teardown, when this was the last holder
      lock.lock();
      tearing_down_ = false;
      changed_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::shared_ptr<const Generation>> handed_over_;
  bool tearing_down_ = false;
  bool stopping_ = false;
  std::thread thread_{[this] { run(); }};  // last: the members above are there when it starts
};

std::atomic<bool> used{false};  // no thread is started to answer let_go_within()

}  // namespace

void let_go(std::shared_ptr<const Generation> generation) noexcept {
  if (!generation) return;
  used.store(true);
  try {
    LettingGo::instance().hand_over(std::move(generation));
  } catch (...) {  // not handed over: let go here, as before
  }
}

bool let_go_within(std::chrono::milliseconds limit) {
  return !used.load() || LettingGo::instance().done_within(limit);
}

}  // namespace verbd::plugin
