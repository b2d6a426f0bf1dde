#include "net/connection.hpp"

#include "log/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <cstring>
#include <tuple>

namespace verbd::net {

namespace asio = boost::asio;
using asio::use_awaitable;
constexpr auto no_throw = asio::as_tuple(use_awaitable);

constexpr std::size_t min_read_bytes = 4 * 1024;
constexpr std::size_t flush_threshold_bytes = 64 * 1024;
constexpr std::chrono::seconds final_write_grace{2};

// Each worker thread reads into one buffer, shared by its connections: a
// connection waits for its socket to be readable without holding any input
// memory, and keeps bytes of its own only while a request is incomplete.
// The wait costs an epoll_ctl that a read into a buffer of its own would
// not (Asio re-arms the descriptor for it), about 4% of a keep-alive GET's
// profile: the price of 8 KiB less per idle connection.
thread_local std::vector<char> worker_input(64 * 1024);

Connection::Connection(asio::ip::tcp::socket socket, ConnectionSlots::Slot slot,
                       const ConnectionSettings& settings, store::Store& store,
                       const plugin::Registry& plugins)
    : socket_(std::move(socket)),
      slot_(std::move(slot)),
      timer_(socket_.get_executor()),
      settings_(settings),
      exchange_(store, plugins) {
  if (settings_.access_log) {
    boost::system::error_code ignored;
    auto remote = socket_.remote_endpoint(ignored);
    peer_ = remote.address().to_string() + ":" + std::to_string(remote.port());
  }
}

void Connection::start() {
  boost::system::error_code ignored;
  socket_.non_blocking(true, ignored);  // read_more() reads the worker's buffer without blocking
  deadline_ = Clock::now() + settings_.idle_timeout;
  asio::co_spawn(
      socket_.get_executor(), [self = shared_from_this()] { return self->run(); }, asio::detached);
  watch_deadline();
}

void Connection::stop_when_idle() {
  stopping_ = true;
  boost::system::error_code ignored;
  if (idle_) socket_.cancel(ignored);
}

asio::awaitable<void> Connection::run() {
  // Whether to drain what the client may still send before closing (see
  // close()): only after a response of ours that leaves input unread.
  bool linger = false;
  while (true) {
    Next next = serve_buffered();
    keep_unparsed();
    if (next == Next::close) {
      linger = input_unread_ || begin_ < end_;
      break;
    }
    if (next == Next::send_continue) {
      output_.append("HTTP/1.1 100 Continue\r\n\r\n");
      if (!co_await flush()) break;
      continue;
    }
    if (!output_.empty() && !co_await flush()) break;
    if (!co_await read_more()) {
      // A request begun and not finished in time gets its 408.
      if (timed_out_ && parser_) {
        refuse(408, "the request did not arrive in time");
        linger = true;
      }
      break;
    }
  }
  co_await close(linger);
}

// The watchdog: a timer set to the deadline. Past it, it cancels the socket
// once (so run() can answer 408), then closes it outright if run() is still
// stuck after a grace. A plain callback rather than a coroutine: it is
// pending on every connection, idle ones included, and this is lighter.
void Connection::watch_deadline() {
  timer_.expires_at(deadline_);
  armed_until_ = deadline_;
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code&) { self->on_deadline(); });
}

void Connection::on_deadline() {
  if (!socket_.is_open()) return;
  if (Clock::now() >= deadline_) {
    boost::system::error_code ignored;
    if (timed_out_) return socket_.close(ignored);
    timed_out_ = true;
    deadline_ = Clock::now() + final_write_grace;
    socket_.cancel(ignored);
  }
  watch_deadline();
}

// Moving the deadline later costs nothing: the watchdog wakes at the old one
// and sleeps again. Moving it earlier (a head arriving in pieces) wakes it now.
void Connection::set_deadline(Clock::time_point deadline) {
  deadline_ = deadline;
  if (deadline < armed_until_) timer_.cancel();
}

// Reads more input: into the worker's buffer when the connection holds no
// unparsed bytes (the usual case: an idle connection keeps no buffer), else
// appended to its own. One coroutine, so that an idle connection holds as
// few frames as possible.
asio::awaitable<bool> Connection::read_more() {
  bool partial = begin_ < end_;
  idle_ = !parser_ && !partial;
  if (idle_ && stopping_) co_return false;
  set_deadline(parser_ && !parser_->body_pending() ? request_start_ + settings_.header_timeout
                                                   : Clock::now() + settings_.idle_timeout);
  boost::system::error_code error;
  std::size_t n = 0;
  if (partial) {
    if (input_.size() - end_ < min_read_bytes)
      input_.resize(std::max(2 * input_.size(), end_ + min_read_bytes));
    source_ = input_.data();
    std::tie(error, n) =
        co_await socket_.async_read_some(asio::buffer(input_.data() + end_, input_.size() - end_), no_throw);
  } else {
    do {
      std::tie(error) = co_await socket_.async_wait(asio::ip::tcp::socket::wait_read, no_throw);
      if (!error) n = socket_.read_some(asio::buffer(worker_input), error);
    } while (error == asio::error::would_block);
    source_ = worker_input.data();
    begin_ = end_ = 0;
  }
  idle_ = false;
  if (error) co_return false;
  end_ += n;
  timed_out_ = false;  // it arrived after all
  co_return true;
}

// Called before the connection next waits: what the parser has not taken
// yet is moved out of the worker's buffer into the connection's own, at its
// start; and the connection's own is freed once nothing is left in it.
void Connection::keep_unparsed() {
  std::size_t left = end_ - begin_;
  if (left == 0) {
    if (source_ == input_.data()) input_ = {};
    source_ = nullptr;
    begin_ = end_ = 0;
    return;
  }
  if (source_ != input_.data()) {
    input_.assign(source_ + begin_, source_ + end_);
  } else if (begin_ > 0) {
    std::memmove(input_.data(), input_.data() + begin_, left);
  }
  source_ = input_.data();
  begin_ = 0;
  end_ = left;
}

asio::awaitable<bool> Connection::flush() {
  set_deadline(Clock::now() + settings_.idle_timeout);
  auto [error, n] = co_await asio::async_write(socket_, asio::buffer(output_), no_throw);
  output_.clear();
  co_return !error;
}

// Sends what is queued and closes. When request bytes may be left unread
// (a refusal, pipelined requests after "Connection: close"), it half-closes
// first and drains what the client still sends for a moment, so that they
// do not make the kernel reset the connection before the client has read
// the response. Otherwise it closes at once, as nginx's lingering_close.
asio::awaitable<void> Connection::close(bool linger) {
  boost::system::error_code ignored;
  if (!output_.empty() && socket_.is_open()) co_await flush();
  if (linger && socket_.is_open()) {
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    set_deadline(Clock::now() + final_write_grace);
    char sink[4096];
    while (true) {
      auto [error, n] = co_await socket_.async_read_some(asio::buffer(sink), no_throw);
      if (error) break;
    }
  }
  socket_.close(ignored);
  timer_.cancel();
}

// Parses and answers every complete request in the buffer.
Connection::Next Connection::serve_buffered() {
  while (true) {
    if (!parser_) {
      if (begin_ == end_) return Next::read;
      parser_.emplace(settings_.limits, request_);
      request_start_ = Clock::now();
      continue_answered_ = false;
    }
    bool had_header = parser_->state() != http::Parser::State::header;
    begin_ += parser_->feed(unparsed());
    switch (parser_->state()) {
      case http::Parser::State::header:
        return Next::read;
      case http::Parser::State::refused:
        return refuse(parser_->refusal().status, parser_->refusal().reason);
      case http::Parser::State::body:
        if (!had_header) return on_header_done();
        return Next::read;
      case http::Parser::State::complete:
        if (!had_header) log_head();
        if (on_request_done() == Next::close) return Next::close;
        if (output_.size() >= flush_threshold_bytes) return Next::read;  // run() flushes first
        break;
    }
  }
}

// The head is in and a body is announced: answer an Expect: 100-continue.
Connection::Next Connection::on_header_done() {
  log_head();
  if (!request_.expects_continue || continue_answered_) return Next::read;
  continue_answered_ = true;
  if (!exchange_.serves(request_.method)) {
    // Refused before the body is read, so the body's framing is lost: close.
    input_unread_ = true;
    exchange_.answer(request_, response_);
    queue(response_, false, request_.version);
    parser_.reset();
    return Next::close;
  }
  return Next::send_continue;
}

Connection::Next Connection::on_request_done() {
  exchange_.answer(request_, response_);
  bool keep_alive = request_.keep_alive && !stopping_;
  queue(response_, keep_alive, request_.version);
  parser_.reset();
  return keep_alive ? Next::read : Next::close;
}

Connection::Next Connection::refuse(int status, std::string_view why) {
  input_unread_ = true;  // the rest of a refused request may be on its way
  response_.reset(request_.method == "HEAD", nullptr);
  response_.refuse(status, why);
  queue(response_, false, request_.version);
  parser_.reset();
  return Next::close;
}

void Connection::queue(const http::Response& response, bool keep_alive, int version) {
  auto before = output_.size();
  response.serialize(output_, {settings_.server_name, keep_alive, version});
  if (settings_.access_log) log_access(response.status(), output_.size() - before);
}

void Connection::log_access(int status, std::uint64_t bytes) const {
  static auto& log = verbd::log::get("access");
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - request_start_).count();
  log.info("{} \"{} {} HTTP/{}.{}\" {} {} {}.{:03}ms", peer_, request_.method, request_.target,
           request_.version / 10, request_.version % 10, status, bytes, micros / 1000, micros % 1000);
}

// At debug level, the request head as it came in (a line for each field).
void Connection::log_head() const {
  static auto& log = verbd::log::get("http");
  if (!log.should_log(spdlog::level::debug)) return;
  std::string head = std::string(request_.method) + " " + std::string(request_.target) + " HTTP/" +
                     std::to_string(request_.version / 10) + "." + std::to_string(request_.version % 10);
  for (const auto& field : request_.headers)
    head.append("\n")
        .append(field.name.data, field.name.size)
        .append(": ")
        .append(field.value.data, field.value.size);
  log.debug("{} sent:\n{}\n", peer_, head);
}

}  // namespace verbd::net
