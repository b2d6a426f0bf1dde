// A connection's socket: Asio's TCP socket, with one wait Asio lacks.
//
// Asio's epoll reactor registers each socket once, edge-triggered: epoll
// reports it when bytes arrive, not while they sit unread. So async_wait()
// cannot trust that an edge is still to come, and re-arms the socket with
// a system call (epoll_ctl) every time; a read (async_read_some()) tries
// recv() first, for the same reason. Either costs a system call per
// keep-alive request.
//
// A connection that has just read its socket dry (a read returned less than
// it asked for, or would block) knows what Asio does not: every byte from
// now on raises a new edge. wait_readable_after_dry_read() then only queues
// its wait where the reactor looks when that edge comes: no system call.
// The edge must not come and go unseen in between: the event loop must not
// have run since that read, for it drops an edge that finds no operation
// waiting.
//
// This reaches into Asio's reactor (boost::asio::detail), as its own
// async_wait() does, and only where it was read (below); elsewhere the wait
// is Asio's async_wait().
#pragma once

#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/detail/bind_handler.hpp>
#include <boost/asio/detail/fenced_block.hpp>
#include <boost/asio/detail/handler_alloc_helpers.hpp>
#include <boost/asio/detail/handler_work.hpp>
#include <boost/asio/detail/memory.hpp>
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/reactor_op.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/version.hpp>

#include <utility>

namespace verbd::net {

// The reactor as read: Boost 1.81's, epoll. Elsewhere the wait is Asio's own.
#if BOOST_VERSION / 100 == 1081 && defined(BOOST_ASIO_HAS_EPOLL) && \
    !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
#define VERBD_WAIT_WITHOUT_SYSTEM_CALL 1
#else
#define VERBD_WAIT_WITHOUT_SYSTEM_CALL 0
#endif

using Executor = boost::asio::io_context::executor_type;

class Socket : public boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor> {
 public:
  using Base = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
  using Base::Base;
  explicit Socket(Base&& accepted) : Base(std::move(accepted)) {}

  // As async_wait(wait_read), for a socket read dry since the event loop
  // last ran (see above); `handler(error_code)`.
  template <class Handler>
  void wait_readable_after_dry_read(Handler handler);

 private:
  template <class Handler>
  class WaitOp;
  // Set on this thread only while a WaitOp is being queued (WaitOp::perform()).
  static inline thread_local bool queueing_ = false;
};

#if VERBD_WAIT_WITHOUT_SYSTEM_CALL
// The reactor's operation: like Asio's reactive_wait_op, but when the reactor
// asks whether it is done while queueing it (the "speculative" try, which
// it may skip), it says no rather than yes; asked later, it is because an
// edge came.
template <class Handler>
class Socket::WaitOp : public boost::asio::detail::reactor_op {
 public:
  BOOST_ASIO_DEFINE_HANDLER_PTR(WaitOp);

  WaitOp(Handler& handler, const Executor& executor)
      : reactor_op(boost::system::error_code(), &WaitOp::perform, &WaitOp::complete),
        handler_(std::move(handler)),
        work_(handler_, executor) {}

 private:
  static status perform(reactor_op*) { return queueing_ ? not_done : done; }

  // As reactive_wait_op::do_complete: the handler is moved out and the
  // operation's memory freed before the call; no call when the loop is
  // being destroyed (`owner` null).
  static void complete(void* owner, boost::asio::detail::operation* base, const boost::system::error_code&,
                       std::size_t) {
    auto* op = static_cast<WaitOp*>(base);
    ptr p = {boost::asio::detail::addressof(op->handler_), op, op};
    boost::asio::detail::handler_work<Handler, Executor> work(std::move(op->work_));
    boost::asio::detail::binder1<Handler, boost::system::error_code> call(op->handler_, op->ec_);
    p.h = boost::asio::detail::addressof(call.handler_);
    p.reset();
    if (owner) {
      boost::asio::detail::fenced_block fence(boost::asio::detail::fenced_block::half);
      work.complete(call, call.handler_);
    }
  }

  Handler handler_;
  boost::asio::detail::handler_work<Handler, Executor> work_;
};

template <class Handler>
void Socket::wait_readable_after_dry_read(Handler handler) {
  namespace detail = boost::asio::detail;
  // One io_context per worker thread: its reactor is looked up once.
  thread_local boost::asio::io_context* context = nullptr;
  thread_local detail::reactor* reactor = nullptr;
  if (context != &get_executor().context()) {
    context = &get_executor().context();
    reactor = &boost::asio::use_service<detail::reactor>(*context);
  }
  typename WaitOp<Handler>::ptr p = {detail::addressof(handler), WaitOp<Handler>::ptr::allocate(handler),
                                     nullptr};
  p.p = new (p.v) WaitOp<Handler>(handler, get_executor());
  auto& socket = impl_.get_implementation();
  queueing_ = true;
  reactor->start_op(detail::reactor::read_op, socket.socket_, socket.reactor_data_, p.p, false, true);
  queueing_ = false;
  p.v = p.p = nullptr;
}
#else
template <class Handler>
void Socket::wait_readable_after_dry_read(Handler handler) {
  async_wait(wait_read, std::move(handler));
}
#endif

}  // namespace verbd::net
