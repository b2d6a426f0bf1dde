#include "net/connection.hpp"

#include "common/coarse_clock.hpp"
#include "common/host_port.hpp"
#include "common/metrics.hpp"
#include "log/access_log.hpp"
#include "log/log.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace verbd::net {

namespace asio = boost::asio;

constexpr std::size_t min_read_bytes = 4 * 1024;
constexpr std::size_t flush_threshold_bytes = 64 * 1024;
constexpr std::chrono::seconds final_write_grace{2};

// Each worker thread reads into one buffer, shared by its connections: a
// connection keeps bytes of its own (in its workspace) only while a request
// is incomplete, and otherwise none (HTTPS: a few, Tls::first_bytes).
thread_local std::vector<char> worker_input(64 * 1024);

Connection::Connection(Socket socket, ConnectionSlots::Slot slot, const ConnectionLoop& loop,
                       const TlsContext* tls)
    : socket_(std::move(socket)),
      tls_(tls ? std::make_unique<Tls>(*tls, socket_.native_handle()) : nullptr),
      slot_(std::move(slot)),
      loop_(loop) {
  if (loop_.settings.access_log) {
    boost::system::error_code ignored;
    peer_ = PeerAddress::of(socket_.remote_endpoint(ignored));
  }
}

PeerAddress PeerAddress::of(const asio::ip::tcp::endpoint& endpoint) {
  const auto& address = endpoint.address();
  return {address.is_v4() ? asio::ip::make_address_v6(asio::ip::v4_mapped, address.to_v4()).to_bytes()
                          : address.to_v6().to_bytes(),
          endpoint.port()};
}

std::string PeerAddress::text() const {
  if (port == 0) return {};
  asio::ip::address_v6 address(bytes);
  if (address.is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, address).to_string();
  return address.to_string();
}

Connection::~Connection() {
  if (!work_) return;
  if (work_->stream) work_->stream->close();  // a plugin still sending learns that nobody takes it
  loop_.workspaces.give_back(std::move(work_));
}

void Connection::start() {
  boost::system::error_code ignored;
  socket_.non_blocking(true, ignored);  // reads and writes are tried at once, never block
  deadline_ = coarse_now() + (tls_ ? loop_.settings.header_timeout : loop_.settings.idle_timeout);
  loop_.watchdog.watch(*this, deadline_);
  if (tls_) return handshake();
  // Accepted with its request already there (TCP_DEFER_ACCEPT): read at
  // once, rather than ask the event loop whether there is something.
  if (boost::system::error_code error = read_into_worker_buffer(); error != asio::error::would_block)
    return on_read(error);
  await_request(true);
}

// HTTPS: the TLS handshake, message by message, within the header timeout.
void Connection::handshake() {
  static auto& log = verbd::log::get("tls");
  state_ = State::handshaking;
  TlsIo io = tls_->session.handshake();
  if (io == TlsIo::done) {
    metrics::add(metrics::loop().tls_handshakes);
    return await_request();
  }
  if (io == TlsIo::want_read || io == TlsIo::want_write)
    return await_io(io == TlsIo::want_read,
                    [self = shared_from_this()](const boost::system::error_code& error) {
                      if (error) return self->close_now();
                      self->handshake();
                    });
  metrics::add(metrics::loop().tls_handshake_failures);
  log.debug("{}: TLS handshake failed: {}", host_and_port(peer_.text(), peer_.port),
            tls_->session.why_failed());
  close_now();
}

void Connection::stop_when_idle() {
  stopping_ = true;
  boost::system::error_code ignored;
  if (state_ == State::idle) socket_.cancel(ignored);
}

// Idle: between requests, the only thing pending is a read of the next
// request's first bytes (and the watchdog).
void Connection::await_request(bool socket_dry) {
  if (stopping_) return close_now();
  state_ = State::idle;
  set_deadline(coarse_now() + loop_.settings.idle_timeout);
  read_first_bytes(socket_dry);
}

// Answers every complete request buffered, writes the responses, and moves
// on: to reading more of a request in progress, to idle, or to closing.
void Connection::serve() {
  // Whether the read this follows in the same turn of the event loop (if
  // any) emptied the socket: then the wait for the next request costs no
  // system call (read_first_bytes()).
  bool socket_dry = std::exchange(read_dry_, false);
  while (true) {
    if (work_ && work_->stream) return pump_stream();
    Next next = serve_buffered();
    keep_unparsed();
    // Request bytes left unread after the last response: close lingering.
    if (next == Next::close_lingering || (next == Next::close && begin_ < end_))
      return close(Ending::lingering);
    if (next == Next::close) return close(Ending::at_once);
    if (next == Next::wait_for_answer) return await_answer();
    if (next == Next::wait_for_spool) return await_spool();
    if (Sent sent = send_at_once(); sent != Sent::all) return after_sending(sent);
    if (next == Next::serve_more) continue;
    if (!between_requests()) return read_more();
    loop_.workspaces.give_back(std::move(work_));
    return await_request(socket_dry);
  }
}

// Reads more of a request in progress: appended to the workspace's input
// when part of it is there already, else as when idle (read_first_bytes()).
void Connection::read_more() {
  state_ = State::reading;
  if (reading_request() && work_->parser->spool() != nullptr && work_->parser->spool()->behind())
    return await_spool();
  acknowledge_now();
  set_deadline(reading_request() && !work_->parser->body_pending()
                   ? work_->request_start + loop_.settings.header_timeout
                   : coarse_now() + loop_.settings.idle_timeout);
  if (begin_ == end_) return read_first_bytes();
  auto& input = work_->input;
  if (input.size() - end_ < min_read_bytes) input.resize(std::max(2 * input.size(), end_ + min_read_bytes));
  source_ = input.data();
  async_read(asio::buffer(input.data() + end_, input.size() - end_),
             [self = shared_from_this()](const boost::system::error_code& error, std::size_t n) {
               self->end_ += n;
               metrics::add(metrics::loop().received_bytes, n);
               self->on_read(error);
             });
}

// A callback for another thread (a pool thread, the spool writer) that
// resumes the connection with `resume` on its own thread. The connection's
// reference moves into the call posted there, so that the other thread
// never holds the last one: a connection ends on its worker's thread,
// where its workspace goes back to the pool and it leaves the watchdog.
template <void (Connection::*resume)()>
std::function<void()> Connection::resume_with() {
  return [self = shared_from_this()]() mutable {
    auto executor = self->socket_.get_executor();
    asio::post(executor, [self = std::move(self)] { (self.get()->*resume)(); });
  };
}

// Waits for an answer prepared on another thread; the responses queued
// before it go meanwhile, as far as the socket takes them now (the rest,
// and any failure, after it). The Responder answers within its own time
// limit, so the watchdog sleeps meanwhile.
void Connection::await_answer() {
  state_ = State::answering;
  set_deadline(Clock::time_point::max());
  send_at_once();
  work_->pending->when_ready(resume_with<&Connection::on_answer>());
}

// Waits while the body's file is being written: for room to read more of
// it, or for all of it, while the worker serves other connections. The
// delay is the disk's, not the client's: the watchdog sleeps meanwhile.
void Connection::await_spool() {
  state_ = State::reading;
  set_deadline(Clock::time_point::max());
  send_at_once();
  work_->parser->spool()->when_changed(resume_with<&Connection::on_spool_changed>());
}

void Connection::on_spool_changed() {
  if (state_ == State::closed || !reading_request()) return;
  if (int error = work_->parser->spool()->error(); error != 0) {
    refuse_unwritten_body(error);
    return close(Ending::lingering);
  }
  serve();
}

Connection::Next Connection::refuse_unwritten_body(int error) {
  if (error == ENOSPC || error == EDQUOT || error == EFBIG) return refuse(507, "no space left for the body");
  return refuse(500, "could not write the body to its file");
}

void Connection::on_answer() {
  work_->pending->take(work_->response);
  work_->pending.reset();
  state_ = State::reading;
  if (finish_request() == Next::close) return close(begin_ < end_ ? Ending::lingering : Ending::at_once);
  serve();
}

// Sends the pieces of a body its plugin is still making as they come, and
// waits for more while the worker serves other connections; the plugin is
// held to its time limit between pieces by the pool (dispatch/), which cuts
// the body short when it passes it.
void Connection::pump_stream() {
  if (state_ == State::closed || !work_ || !work_->stream) return;  // (announced before the close)
  auto& work = *work_;
  http::BodyStream::End end = work.stream->take(work.piece);
  auto before = work.output.size();
  if (work.chunked)
    http::append_chunk(work.output, work.piece);
  else
    work.output.append(work.piece);
  work.streamed_bytes += work.output.size() - before;
  metrics::add(metrics::loop().sent_bytes, work.output.size() - before);
  if (end == http::BodyStream::End::complete) return end_stream();
  if (end == http::BodyStream::End::cut_short) {
    // What was sent goes, and the connection ends without the last chunk,
    // so that the client does not take the body for whole (in HTTP/1.0 it
    // cannot tell).
    work.stream.reset();
    if (loop_.settings.access_log)
      log_access(work.streamed_bytes, work.streamed_bytes - work.streamed_head_bytes, since_request_start());
    return close(begin_ < end_ ? Ending::lingering : Ending::at_once);
  }
  if (Sent sent = send_at_once(); sent != Sent::all) return after_sending(sent);
  state_ = State::streaming;
  set_deadline(Clock::time_point::max());
  work.stream->when_more(resume_with<&Connection::pump_stream>());
}

void Connection::end_stream() {
  auto& work = *work_;
  if (work.chunked) {
    work.output.append(http::last_chunk);
    work.streamed_bytes += http::last_chunk.size();
    metrics::add(metrics::loop().sent_bytes, http::last_chunk.size());
  }
  work.stream.reset();
  if (loop_.settings.access_log)
    log_access(work.streamed_bytes, work.streamed_bytes - work.streamed_head_bytes, since_request_start());
  if (work.close_after_stream) return close(begin_ < end_ ? Ending::lingering : Ending::at_once);
  serve();
}

// The next request's first bytes. A plain connection waits until its
// socket is readable, then reads what it has into the worker's buffer,
// where the request is parsed: waiting, it holds no buffer. When its last
// read, in this turn of the event loop, emptied the socket (`socket_dry`),
// that wait costs no system call (net/socket.hpp). TLS reads into its own
// small buffer instead, and moves the bytes over: OpenSSL may hold them
// already (async_read()).
void Connection::read_first_bytes(bool socket_dry) {
  if (tls_)
    return async_read(asio::buffer(tls_->first_bytes),
                      [self = shared_from_this()](const boost::system::error_code& error, std::size_t n) {
                        if (!error) self->move_to_worker_buffer(n);
                        self->on_read(error);
                      });
  auto on_readable = [self = shared_from_this()](boost::system::error_code error) {
    if (!error) error = self->read_into_worker_buffer();
    if (error == asio::error::would_block) return self->read_first_bytes(true);  // readable, and then not
    self->on_read(error);
  };
  if (socket_dry) return socket_.wait_readable_after_dry_read(std::move(on_readable));
  socket_.async_wait(Socket::wait_read, std::move(on_readable));
}

// What the socket has now, read into the worker's buffer; an error only
// when nothing came.
boost::system::error_code Connection::read_into_worker_buffer() {
  boost::system::error_code error;
  std::size_t n = socket_.read_some(asio::buffer(worker_input), error);
  read_dry_ = n < worker_input.size() && (n > 0 || error == asio::error::would_block);
  take_worker_input(n);
  return n > 0 ? boost::system::error_code{} : error;
}

// The worker's buffer holds the `n` bytes just received: they are the
// input to parse.
void Connection::take_worker_input(std::size_t n) {
  source_ = worker_input.data();
  begin_ = 0;
  end_ = n;
  metrics::add(metrics::loop().received_bytes, n);
}

// A read of what is there now, else when there is something. TLS first
// asks OpenSSL, which may hold bytes already: only when it has none does
// the connection read the socket for it (await_io(), await_ciphertext()). A
// read done at once is handed on through the event loop, never called back
// from here.
template <class Handler>
void Connection::async_read(asio::mutable_buffer into, Handler handler) {
  if (!tls_) return socket_.async_read_some(into, std::move(handler));
  std::size_t n = 0;
  TlsIo io = tls_->session.read({static_cast<char*>(into.data()), into.size()}, n);
  if (io == TlsIo::want_read || io == TlsIo::want_write)
    return await_io(io == TlsIo::want_read, [self = shared_from_this(), into, handler = std::move(handler)](
                                                const boost::system::error_code& error) mutable {
      if (error) return handler(error, std::size_t{0});
      self->async_read(into, std::move(handler));
    });
  boost::system::error_code error;
  if (io == TlsIo::closed) error = asio::error::eof;
  if (io == TlsIo::failed) error = asio::error::connection_reset;
  asio::post(socket_.get_executor(),
             [handler = std::move(handler), error, n]() mutable { handler(error, n); });
}

std::size_t Connection::read_now(asio::mutable_buffer into) {
  boost::system::error_code ignored;  // nothing more yet, or an error the next read will report
  if (!tls_) return socket_.read_some(into, ignored);
  std::size_t n = 0;
  return tls_->session.read({static_cast<char*>(into.data()), into.size()}, n) == TlsIo::done ? n : 0;
}

std::size_t Connection::send_now(asio::const_buffer bytes, int flags, boost::system::error_code& error) {
  if (!tls_) return socket_.send(bytes, flags, error);
  std::size_t n = 0;
  TlsIo io = tls_->session.write({static_cast<const char*>(bytes.data()), bytes.size()}, n);
  tls_wants_read_ = io == TlsIo::want_read;
  if (io == TlsIo::want_read || io == TlsIo::want_write) error = asio::error::would_block;
  if (io == TlsIo::failed || io == TlsIo::closed) error = asio::error::connection_reset;
  return n;
}

template <class Handler>
void Connection::await_io(bool readable, Handler handler) {
  if (readable && tls_) return await_ciphertext(std::move(handler));
  socket_.async_wait(readable ? Socket::wait_read : Socket::wait_write, std::move(handler));
}

// TLS: reads what the socket has into Tls::first_bytes, for OpenSSL, then calls
// `handler`. Those bytes are free whenever OpenSSL wants more: a read of
// the next request's first bytes into it has not begun (async_read() asks
// OpenSSL first, and reads the socket only when it has nothing).
template <class Handler>
void Connection::await_ciphertext(Handler handler) {
  socket_.async_read_some(asio::buffer(tls_->first_bytes),
                          [self = shared_from_this(), handler = std::move(handler)](
                              const boost::system::error_code& error, std::size_t n) mutable {
                            if (!error) self->take_ciphertext(n);
                            handler(error);
                          });
}

// Hands OpenSSL what was read, and what more the socket has now (through the
// worker's buffer, which nothing else uses until this returns).
void Connection::take_ciphertext(std::size_t n) {
  tls_->session.take({tls_->first_bytes.data(), n});
  if (n < tls_->first_bytes.size()) return;
  boost::system::error_code error;  // nothing more yet, or an error the next read will report
  while (std::size_t more = socket_.read_some(asio::buffer(worker_input), error)) {
    tls_->session.take({worker_input.data(), more});
    if (error || more < worker_input.size()) return;
  }
}

void Connection::move_to_worker_buffer(std::size_t n) {
  std::memcpy(worker_input.data(), tls_->first_bytes.data(), n);
  if (n == tls_->first_bytes.size()) n += read_now(asio::buffer(worker_input) + n);
  take_worker_input(n);
}

void Connection::on_read(const boost::system::error_code& error) {
  if (!error) {
    overdue_ = false;  // it arrived after all
    return serve();
  }
  // A request begun and not finished in time gets its 408; otherwise the
  // client has gone, or the server is stopping.
  if (overdue_ && reading_request()) {
    refuse(408, "the request did not arrive in time");
    return close(Ending::lingering);
  }
  close_now();
}

// Sends what is queued, the output and then a body left in its file, as
// far as the socket takes it now. Most responses fit the socket's buffer:
// they go at once, without waiting.
Connection::Sent Connection::send_at_once() {
  if (!work_) return Sent::all;
  Sent sent = write_output();
  return sent == Sent::all ? send_file() : sent;
}

Connection::Sent Connection::write_output() {
  auto& work = *work_;
  if (work.output.empty()) return Sent::all;
  before_write();
  // A body to follow from a file: MSG_MORE lets the head share its packets.
  // The connection's last bytes: MSG_MORE keeps them for the FIN (end()).
  int flags = work.file.ok() || state_ == State::closing ? MSG_MORE : 0;
  boost::system::error_code error;
  work.output_sent += send_now(asio::buffer(work.output) + work.output_sent, flags, error);
  if (error) return error == asio::error::would_block ? Sent::some : Sent::failed;
  if (work.output_sent < work.output.size()) return Sent::some;
  work.output.clear();
  work.output_sent = 0;
  return Sent::all;
}

// sendfile(2): the kernel moves the bytes from the file to the socket; they
// never pass through here.
Connection::Sent Connection::send_file() {
  static auto& log = verbd::log::get("http");
  auto& work = *work_;
  if (work.file.ok()) before_write();
  if (tls_ && work.file.ok()) return send_file_through_tls();
  while (work.file.ok() && work.file_at < work.file_end) {
    off_t offset = static_cast<off_t>(work.file_at);
    ssize_t n = ::sendfile(socket_.native_handle(), work.file.get(), &offset, work.file_end - work.file_at);
    if (n > 0) {
      work.file_at += static_cast<std::uint64_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return Sent::some;
    } else {
      // The file was cut short in place after its length went out (or a
      // socket error): the response cannot be completed, only ended.
      if (n == 0)
        log.warn("{} {}: the file shrank while being sent (at byte {} of {}); closing the connection",
                 work.request.method, work.request.target, work.file_at, work.file_end);
      return Sent::failed;
    }
  }
  work.file = Fd();
  return Sent::all;
}

// HTTPS cannot use sendfile(2) (the bytes must be encrypted here): the file
// goes through a buffer, a piece at a time. A piece the socket did not take
// is read again from the same place for the retry OpenSSL asks for.
Connection::Sent Connection::send_file_through_tls() {
  static auto& log = verbd::log::get("http");
  thread_local std::vector<char> piece(64 * 1024);
  auto& work = *work_;
  while (work.file_at < work.file_end) {
    std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(piece.size(), work.file_end - work.file_at));
    ssize_t got = ::pread(work.file.get(), piece.data(), want, static_cast<off_t>(work.file_at));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      log.warn("{} {}: the file shrank while being sent (at byte {} of {}); closing the connection",
               work.request.method, work.request.target, work.file_at, work.file_end);
      return Sent::failed;
    }
    boost::system::error_code error;
    work.file_at += send_now(asio::buffer(piece.data(), static_cast<std::size_t>(got)), 0, error);
    if (error == asio::error::would_block) return Sent::some;
    if (error) return Sent::failed;
  }
  work.file = Fd();
  return Sent::all;
}

// Nagle's algorithm holds a small write back while an earlier one is not
// yet acknowledged (until the client's delayed ACK: up to 40 ms), so it is
// turned off before a connection's second write. One that writes once and
// closes (Connection: close) is spared the system call, as in nginx.
void Connection::before_write() {
  if (nagle_ == Nagle::before_second_write) {
    boost::system::error_code ignored;
    socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    nagle_ = Nagle::off;
  } else if (nagle_ == Nagle::before_first_write) {
    nagle_ = Nagle::before_second_write;
  }
}

// Part of a request came: its ACK leaves now, not after the delayed-ACK
// time (the listener's mode, see open_listeners). A client whose Nagle's
// algorithm holds a small second write back until the first is
// acknowledged (a body written after its head) would otherwise wait 40 ms.
void Connection::acknowledge_now() {
  int one = 1;
  ::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
}

// Waits until the socket has room and sends more; once all is sent, goes on
// serving (sending), or ends (closing, lingering).
void Connection::send_rest() {
  if (state_ != State::closing && state_ != State::lingering) state_ = State::sending;
  set_deadline(coarse_now() + loop_.settings.idle_timeout);
  await_io(tls_wants_read_, [self = shared_from_this()](const boost::system::error_code& error) {
    if (error) return self->close_now();
    self->after_sending(self->send_at_once());
  });
}

void Connection::after_sending(Sent sent) {
  if (sent == Sent::failed) return close_now();
  if (sent == Sent::some) return send_rest();
  if (state_ == State::closing) return end();
  if (state_ == State::lingering) return drain();
  serve();
}

// Sends what is queued and closes. When request bytes may be left unread
// (a refusal, pipelined requests after "Connection: close"), it lingers:
// half-closes, then drains what the client still sends for a moment, so that
// those bytes do not make the kernel reset the connection before the client
// has read the response. Otherwise it closes at once, as nginx's
// lingering_close does.
void Connection::close(Ending ending) {
  state_ = ending == Ending::lingering ? State::lingering : State::closing;
  after_sending(send_at_once());
}

// Reads and throws away until the client closes or the grace ends. The
// bytes are not kept, so the worker's buffer serves as the sink.
void Connection::drain() {
  if (state_ != State::draining) {
    state_ = State::draining;
    if (tls_) tls_->session.shutdown();
    boost::system::error_code ignored;
    socket_.shutdown(Socket::shutdown_send, ignored);
    set_deadline(coarse_now() + final_write_grace);
  }
  async_read(asio::buffer(worker_input),
             [self = shared_from_this()](const boost::system::error_code& error, std::size_t) {
               if (error) return self->close_now();
               self->drain();
             });
}

// The connection ends after its response, all sent: the FIN leaves in the
// packet of the response's last bytes, which MSG_MORE held back for it, so
// each end handles one packet fewer. Half-closing first sends them even if
// the client has sent more meanwhile: unread, those bytes make close()
// reset the connection, and a reset discards what is still held back.
void Connection::end() {
  boost::system::error_code ignored;
  if (!tls_) socket_.shutdown(Socket::shutdown_send, ignored);
  close_now();
}

void Connection::close_now() {
  if (tls_ && state_ != State::closed && socket_.is_open()) tls_->session.shutdown();
  state_ = State::closed;
  if (work_ && work_->stream) work_->stream->close();
  boost::system::error_code ignored;
  socket_.close(ignored);
  Watchdog::forget(*this);
}

// Woken by the watchdog: past the deadline, it cancels the socket once (so
// that a request in progress gets its 408), then closes it outright if the
// connection is still stuck after a grace. Before it (the deadline was
// moved later), it is watched on until then. Cancelling and closing call
// the handlers waiting later, through the event loop, never from here.
void Connection::on_due() {
  if (!socket_.is_open()) return;
  if (Clock::now() >= deadline_) {
    boost::system::error_code ignored;
    if (overdue_) return socket_.close(ignored);
    overdue_ = true;
    deadline_ = coarse_now() + final_write_grace;
    socket_.cancel(ignored);
  }
  loop_.watchdog.watch(*this, deadline_);
}

// Moving the deadline later costs nothing: the watchdog wakes the connection
// at the earlier time, and it is watched on. Moving it earlier (a head
// arriving in pieces) moves it in the watchdog's order.
void Connection::set_deadline(Clock::time_point deadline) {
  deadline_ = deadline;
  if (deadline < due() && socket_.is_open()) loop_.watchdog.watch(*this, deadline);
}

// Called before the connection next waits: what the parser has not taken
// yet is moved out of the worker's buffer into the workspace's, at its start.
void Connection::keep_unparsed() {
  std::size_t left = end_ - begin_;
  if (left == 0) {
    source_ = nullptr;
    begin_ = end_ = 0;
    return;
  }
  auto& input = work_->input;  // unparsed bytes mean a parser, so a workspace
  if (source_ != input.data()) {
    input.assign(source_ + begin_, source_ + end_);
  } else if (begin_ > 0) {
    std::memmove(input.data(), input.data() + begin_, left);
  }
  source_ = input.data();
  begin_ = 0;
  end_ = left;
}

// Parses and answers every complete request in the buffer.
Connection::Next Connection::serve_buffered() {
  while (true) {
    if (!reading_request()) {
      if (begin_ == end_) return Next::read;
      if (!work_) work_ = loop_.workspaces.take();
      work_->parser.emplace(loop_.settings.limits, work_->request, &loop_.responder);
      work_->request_start = Clock::now();
    }
    auto& parser = *work_->parser;
    bool had_header = parser.state() != http::Parser::State::header;
    begin_ += parser.feed(unparsed());
    switch (parser.state()) {
      case http::Parser::State::header:
        return Next::read;
      case http::Parser::State::refused:
        return refuse(parser.refusal().status, parser.refusal().reason);
      case http::Parser::State::body:
        if (!had_header) return on_header_done();
        return Next::read;
      case http::Parser::State::complete:
        if (!had_header) log_head();
        if (http::SpoolWriter* spool = parser.spool()) {
          if (!spool->drained()) return Next::wait_for_spool;
          if (spool->error() != 0) return refuse_unwritten_body(spool->error());
        }
        if (Next next = on_request_done(); next == Next::close || next == Next::wait_for_answer) return next;
        // Sent first: enough output queued, or a body in a file or still
        // being made, which the next response must not overtake.
        if (work_->output.size() >= flush_threshold_bytes || work_->file.ok() || work_->stream)
          return Next::serve_more;
        break;
    }
  }
}

// The head is in and a body is announced (this happens once a request):
// answer an Expect: 100-continue, written before the connection waits for
// the body.
Connection::Next Connection::on_header_done() {
  log_head();
  auto& request = work_->request;
  if (!request.expects_continue) return Next::read;
  if (loop_.responder.refuses_before_body(request, work_->response)) {
    // Refused before the body is read, so the body's framing is lost: close.
    queue(work_->response, false, request.version);
    work_->parser.reset();
    return Next::close_lingering;
  }
  work_->output.append("HTTP/1.1 100 Continue\r\n\r\n");
  return Next::read;
}

Connection::Next Connection::on_request_done() {
  work_->pending = loop_.responder.answer_or_defer(work_->request, work_->response);
  if (work_->pending) return Next::wait_for_answer;
  return finish_request();
}

// Queues the response to the request just answered. A body still being
// made is sent before the connection closes, if it does; in HTTP/1.0 its
// end is the close.
Connection::Next Connection::finish_request() {
  auto& request = work_->request;
  bool streamed = work_->response.stream() != nullptr;
  bool keep_alive = request.keep_alive && !stopping_ && !(streamed && request.version < 11);
  queue(work_->response, keep_alive, request.version);
  work_->parser.reset();
  if (streamed) {
    work_->close_after_stream = !keep_alive;
    return Next::serve_more;
  }
  return keep_alive ? Next::read : Next::close;
}

// The rest of a refused request may be on its way: the connection lingers.
// A refusal that is the server's fault (no room for a body) is logged.
Connection::Next Connection::refuse(int status, std::string_view why) {
  static auto& log = verbd::log::get("http");
  if (status >= 500 && reading_request())
    log.warn("{} {}: {}: answered {}, nothing kept", work_->request.method, work_->request.target, why,
             status);
  auto& response = work_->response;
  response.reset(work_->request.method == "HEAD");
  response.refuse(status, why);
  queue(response, false, work_->request.version);
  work_->parser.reset();
  return Next::close_lingering;
}

void Connection::queue(http::Response& response, bool keep_alive, int version) {
  auto& work = *work_;
  auto before = work.output.size();
  response.serialize(work.output, {loop_.settings.server_name, keep_alive, version});
  std::uint64_t bytes = work.output.size() - before;
  work.file = response.file_to_send();
  if (work.file.ok()) {  // all of the file, or a part of it (a Range)
    work.file_at = response.file_offset();
    work.file_end = response.file_offset() + response.content_length();
    bytes += response.content_length();
  }
  auto took = since_request_start();  // one clock reading for the metrics and the log
  metrics::count_response(work.request.method, response.status(), bytes, took);
  if (response.stream()) {  // logged when its body ends
    work.stream = response.stream();
    work.chunked = version >= 11;
    work.streamed_bytes = work.streamed_head_bytes = bytes;
    return;
  }
  if (loop_.settings.access_log) log_access(bytes, response.body_bytes_sent(), took);
}

std::chrono::microseconds Connection::since_request_start() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - work_->request_start);
}

void Connection::log_access(std::uint64_t bytes, std::uint64_t body_bytes,
                            std::chrono::microseconds took) const {
  const auto& request = work_->request;
  log::AccessRecord record;
  std::string client = peer_.text();
  record.client = client;
  record.client_port = peer_.port;
  record.method = request.method;
  record.target = request.target;
  record.version = request.version;
  record.status = work_->response.status();
  record.bytes = bytes;
  record.body_bytes = body_bytes;
  record.referer = request.header("referer");
  record.user_agent = request.header("user-agent");
  record.duration = took;
  log::write_access(record);
}

// At debug level, the request head as it came in (a line for each field).
void Connection::log_head() const {
  static auto& log = verbd::log::get("http");
  if (!log.should_log(spdlog::level::debug)) return;
  const auto& request = work_->request;
  std::string head = std::string(request.method) + " " + std::string(request.target) + " HTTP/" +
                     std::to_string(request.version / 10) + "." + std::to_string(request.version % 10);
  for (const auto& field : request.headers)
    head.append("\n").append(field.name).append(": ").append(field.value);
  log.debug("{} sent:\n{}\n", host_and_port(peer_.text(), peer_.port), head);
}

}  // namespace verbd::net
