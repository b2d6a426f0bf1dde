#include "net/watchdog.hpp"

namespace verbd::net {

Watchdog::Watchdog(boost::asio::io_context& context) : timer_(context.get_executor()) {}

void Watchdog::watch(Watched& watched, Clock::time_point due) {
  forget(watched);
  watched.due_ = due;
  watched_.insert(watched);
  if (!waking_ && due < armed_for_) arm_for_earliest();
}

// Setting the timer's expiry cancels the wait before, which then ends with
// operation_aborted, and is ignored.
void Watchdog::arm_for_earliest() {
  armed_for_ = watched_.empty() ? Clock::time_point::max() : watched_.begin()->due_;
  if (armed_for_ == Clock::time_point::max()) return;
  timer_.expires_at(armed_for_);
  timer_.async_wait([this](const boost::system::error_code& error) {
    if (!error) on_timer();
  });
}

void Watchdog::on_timer() {
  waking_ = true;
  auto now = Clock::now();
  while (!watched_.empty() && watched_.begin()->due_ <= now) {
    Watched& due = *watched_.begin();
    forget(due);
    due.on_due();
  }
  waking_ = false;
  arm_for_earliest();
}

}  // namespace verbd::net
