// The deadlines of one event loop's connections (header, idle, write), kept
// under one timer, as nginx keeps its event timers in one tree. A timer of
// each connection's own would cost it an allocated wait and a place in
// Asio's timer queue for as long as it is open, and cost a request that
// opens and closes a connection two queue changes.
//
// Each connection is watched, in a tree ordered by the time it is due, from
// its start until it closes. Moving a connection's deadline later costs
// nothing: it stays where it is, and is asked again when that earlier time
// comes (Watched::on_due(), which watches it again until its deadline). Only
// a deadline moved earlier moves it in the tree. The timer is armed for the
// earliest, and armed again only when an earlier one comes.
//
// One event loop's thread uses it; nothing in it is shared with another.
#pragma once

#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/intrusive/set.hpp>

#include <chrono>

namespace verbd::net {

class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;

  // What it watches (a connection). Its destructor stops the watch.
  class Watched {
   public:
    Watched() = default;
    Watched(const Watched&) = delete;
    Watched& operator=(const Watched&) = delete;
    // When the watchdog will call on_due(); time_point::max() when not watched.
    Clock::time_point due() const noexcept { return hook_.is_linked() ? due_ : Clock::time_point::max(); }

   protected:
    virtual ~Watched() = default;
    // Its time came, and it is no longer watched: it may be watched again.
    virtual void on_due() = 0;

   private:
    friend class Watchdog;
    using Hook = boost::intrusive::set_member_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>,
                                                   boost::intrusive::optimize_size<true>>;
    Hook hook_;
    Clock::time_point due_{};
  };

  explicit Watchdog(boost::asio::io_context& context);
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Calls watched.on_due() once `due` has passed (never, for time_point::max()),
  // instead of when it was watched for until now.
  void watch(Watched& watched, Clock::time_point due);
  static void forget(Watched& watched) noexcept { watched.hook_.unlink(); }

  bool empty() const noexcept { return watched_.empty(); }
  // Calls `visit` with each one watched; `visit` must not watch or forget any.
  template <class Visit>
  void for_each(Visit visit) {
    for (auto& watched : watched_) visit(watched);
  }

 private:
  struct ByDue {
    bool operator()(const Watched& a, const Watched& b) const noexcept { return a.due_ < b.due_; }
  };
  using Tree = boost::intrusive::multiset<
      Watched, boost::intrusive::member_hook<Watched, Watched::Hook, &Watched::hook_>,
      boost::intrusive::compare<ByDue>, boost::intrusive::constant_time_size<false>>;
  using Timer = boost::asio::basic_waitable_timer<Clock, boost::asio::wait_traits<Clock>,
                                                  boost::asio::io_context::executor_type>;

  void arm_for_earliest();
  void on_timer();

  Tree watched_;
  Timer timer_;
  Clock::time_point armed_for_ = Clock::time_point::max();
  bool waking_ = false;  // in on_timer(): it arms the timer once, at the end
};

}  // namespace verbd::net
