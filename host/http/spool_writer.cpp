#include "http/spool_writer.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <deque>
#include <thread>
#include <utility>

namespace verbd::http {

// The one thread of the process that writes spooled bodies: the disk is
// what they wait for, and one writer at a time keeps it busy.
class SpoolThread {
 public:
  static constexpr int writer_niceness = 5;

  static SpoolThread& get() {
    static SpoolThread* thread = new SpoolThread;  // never destroyed: it runs until the process ends
    return *thread;
  }

  void queue(std::shared_ptr<SpoolWriter> writer) {
    std::unique_lock lock(mutex_);
    writers_.push_back(std::move(writer));
    if (!started_) {
      std::thread([this] { run(); }).detach();
      started_ = true;
    }
    lock.unlock();
    ready_.notify_one();
  }

 private:
  // Writers take turns, one batch each, so that one upload does not hold up another.
  void run() {
    ::pthread_setname_np(::pthread_self(), "spool writer");
    // Below the event loops: on a busy machine, the CPU goes to answering
    // first, and an upload waits for the disk a little longer.
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), writer_niceness);
    std::unique_lock lock(mutex_);
    while (true) {
      ready_.wait(lock, [&] { return !writers_.empty(); });
      auto writer = std::move(writers_.front());
      writers_.pop_front();
      lock.unlock();
      bool more = writer->write_waiting();
      lock.lock();
      if (more) writers_.push_back(std::move(writer));
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::shared_ptr<SpoolWriter>> writers_;
  bool started_ = false;
};

void SpoolWriter::append(std::string_view bytes) {
  std::unique_lock lock(mutex_);
  if (error_ != 0) return;
  waiting_.append(bytes);
  if (queued_) return;
  queued_ = true;
  lock.unlock();
  SpoolThread::get().queue(shared_from_this());
}

bool SpoolWriter::behind() const {
  std::lock_guard lock(mutex_);
  return waiting_.size() > behind_bytes;
}

bool SpoolWriter::drained() const {
  std::lock_guard lock(mutex_);
  return !queued_ || error_ != 0;
}

int SpoolWriter::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

void SpoolWriter::when_changed(std::function<void()> changed) {
  std::lock_guard lock(mutex_);
  if (!queued_ || error_ != 0)
    changed();
  else
    changed_ = std::move(changed);
}

// The callback holds the connection: it goes here.
void SpoolWriter::abandon() noexcept {
  std::function<void()> dropped;
  std::lock_guard lock(mutex_);
  waiting_.clear();
  dropped.swap(changed_);
}

// With the lock held: the callback only posts to the connection's loop.
void SpoolWriter::notify_locked() {
  if (changed_) std::exchange(changed_, nullptr)();
}

bool SpoolWriter::write_waiting() {
  {
    std::lock_guard lock(mutex_);
    writing_.clear();
    writing_.swap(waiting_);
    notify_locked();  // room again
  }
  write_all(writing_);
  std::lock_guard lock(mutex_);
  if (!waiting_.empty() && error_ == 0) return true;
  queued_ = false;
  waiting_.clear();
  notify_locked();  // drained
  return false;
}

void SpoolWriter::write_all(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(file_.get(), bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::lock_guard lock(mutex_);
      error_ = errno;
      return;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
    written_ += static_cast<std::uint64_t>(n);
    unflushed_ += static_cast<std::uint64_t>(n);
  }
  start_writeback();
}

// Every few MiB, the disk is asked to start writing what came (without
// waiting for it): the fsync that makes the upload durable then finds most
// of it written, and the page cache does not fill with dirty pages. Whole
// pages only: a page being written would hold up the next write into it.
void SpoolWriter::start_writeback() {
  constexpr std::uint64_t writeback_bytes = 8 * 1024 * 1024, page = 4096;
  if (unflushed_ < writeback_bytes) return;
  std::uint64_t end = written_ / page * page, from = written_ - unflushed_;
  ::sync_file_range(file_.get(), static_cast<off64_t>(from), static_cast<off64_t>(end - from),
                    SYNC_FILE_RANGE_WRITE);
  unflushed_ = written_ - end;
}

}  // namespace verbd::http
