// One client connection: reads requests, hands each to its worker's
// Responder, writes the responses back in order. Lives on its worker's
// thread; nothing in it is shared with another thread.
//
// Its state (State below) is what it waits for: each state is one pending
// Asio operation whose callback moves it on, as nginx's and Beast's
// connections do. Callbacks only, no coroutines.
//
//   (handshaking ──TLS done──►) idle                    (HTTPS: net/tls.hpp)
//   idle ──first bytes──► serve() ──► idle            (kept alive: the next request)
//                            ├──► reading ──more bytes──► serve()   (or the body's file written)
//                            ├──► answering ──answer────► serve()
//                            ├──► streaming ──a piece───► serve()   (a body its plugin still makes)
//                            ├──► sending ──room────────► serve()
//                            ├──► closing ──all sent────► closed
//                            └──► lingering ──all sent──► draining ──EOF or grace──► closed
//
// serve() answers every complete request buffered, so pipelined requests
// are answered in order and their responses leave in one write; a response
// that fits the socket's buffer is written at once, without waiting. An
// answer the Responder prepares on another thread (a plugin that may block)
// is waited for in `answering`, while the worker serves other connections;
// the requests buffered after it wait their turn. So do they behind a
// body its plugin sends as it makes it (http/body_stream.hpp): each piece is
// written as it comes, chunked, and the next response only after the last.
//
// A large body is written to its file by another thread
// (http/spool_writer.hpp): the connection stops reading it while that
// thread is behind, and answers only once it is all written.
//
// An idle connection holds no workspace and no buffer: it waits for its
// socket to be readable, then reads into its worker's buffer, where
// requests are parsed (HTTPS keeps 256 bytes for OpenSSL's reads),
// and a workspace (parser, request, response, output) is borrowed from the
// worker's pool only while a request is in progress (net/workspace.hpp). The
// worker's watchdog (net/watchdog.hpp) enforces the deadlines (header, body,
// idle, write) by cancelling the socket.
#pragma once

#include "http/parser.hpp"
#include "http/responder.hpp"
#include "http/response.hpp"
#include "net/connection_slots.hpp"
#include "net/socket.hpp"
#include "net/tls.hpp"
#include "net/watchdog.hpp"
#include "net/workspace.hpp"

#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace verbd::net {

// From [limits], [server] and [log]; config::Config holds their defaults.
struct ConnectionSettings {
  http::ParserLimits limits;
  std::chrono::milliseconds header_timeout{};
  std::chrono::milliseconds idle_timeout{};
  std::string server_name;
  bool access_log = false;
};

// What the connections of one event loop share: the loop's, outliving them.
struct ConnectionLoop {
  const ConnectionSettings& settings;
  WorkspacePool& workspaces;
  http::Responder& responder;
  Watchdog& watchdog;
};

// Sockets (net/socket.hpp) and timers bound to their worker's io_context
// rather than to any executor: smaller (48 bytes less each) and without an
// indirection.
using Timer =
    boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                      boost::asio::wait_traits<std::chrono::steady_clock>, Executor>;

// The client's address and port, for the log: kept as 18 bytes (IPv4 as
// IPv4-mapped IPv6) and made text only when a line is written.
struct PeerAddress {
  std::array<unsigned char, 16> bytes{};
  std::uint16_t port = 0;  // 0: not known (the access log is off)

  static PeerAddress of(const boost::asio::ip::tcp::endpoint& endpoint);
  std::string text() const;
};

class Connection : public std::enable_shared_from_this<Connection>, public Watchdog::Watched {
 public:
  using Clock = std::chrono::steady_clock;

  // With `tls`, the connection speaks HTTPS: a TLS handshake comes first.
  Connection(Socket socket, ConnectionSlots::Slot slot, const ConnectionLoop& loop,
             const TlsContext* tls = nullptr);
  ~Connection();

  void start();
  // Graceful shutdown: close now if idle, else after the response in progress.
  void stop_when_idle();

 private:
  // What the connection waits for.
  enum class State : std::uint8_t {
    handshaking,  // HTTPS: the client's next TLS handshake message, or room for ours
    idle,         // between requests: the next request's first bytes
    reading,      // a request in progress: more of it
    answering,    // the answer, being prepared on another thread (http::Pending)
    streaming,    // the next piece of a body its plugin is still making
    sending,      // room in the socket for responses queued, then serving on
    closing,      // room in the socket for the last response, then closed
    lingering,    // room in the socket for the last response, then draining
    draining,     // half-closed: the client's end of the input (see close())
    closed,
  };
  // How a connection ends: at once, or lingering (see close()).
  enum class Ending { at_once, lingering };
  // What serve() does after answering what is buffered.
  enum class Next { read, serve_more, wait_for_answer, wait_for_spool, close, close_lingering };
  // How much of what is queued the socket took.
  enum class Sent { all, some, failed };
  // Nagle's algorithm is turned off before the second write (before_write()).
  enum class Nagle : std::uint8_t { before_first_write, before_second_write, off };

  // The transitions, each to the state its name says.
  void handshake();
  void await_request(bool socket_dry = false);
  void read_more();
  void await_answer();
  void await_spool();
  void pump_stream();
  void send_rest();
  void close(Ending ending);
  void drain();
  void end();
  void close_now();

  void serve();
  // The socket's bytes, in the clear or through TLS (tls_): reads and
  // writes that never block, and a wait for what the next one needs.
  template <class Handler>
  void async_read(boost::asio::mutable_buffer into, Handler handler);
  std::size_t read_now(boost::asio::mutable_buffer into);
  std::size_t send_now(boost::asio::const_buffer bytes, int flags, boost::system::error_code& error);
  template <class Handler>
  void await_io(bool readable, Handler handler);
  template <class Handler>
  void await_ciphertext(Handler handler);
  void take_ciphertext(std::size_t n);
  Sent send_file_through_tls();
  void read_first_bytes(bool socket_dry = false);
  boost::system::error_code read_into_worker_buffer();
  void take_worker_input(std::size_t n);
  void on_read(const boost::system::error_code& error);
  void move_to_worker_buffer(std::size_t n);
  Sent send_at_once();
  Sent write_output();
  Sent send_file();
  void before_write();
  void acknowledge_now();
  void after_sending(Sent sent);
  void on_due() override;

  Next serve_buffered();
  Next on_header_done();
  Next on_request_done();
  template <void (Connection::*resume)()>
  std::function<void()> resume_with();
  void on_answer();
  void on_spool_changed();
  Next refuse_unwritten_body(int error);
  void end_stream();
  Next finish_request();
  Next refuse(int status, std::string_view why);
  void queue(http::Response& response, bool keep_alive, int version);
  void set_deadline(Clock::time_point deadline);
  // A streamed body is logged when it ends, with the time until then.
  void log_access(std::uint64_t bytes, std::uint64_t body_bytes, std::chrono::microseconds took) const;
  std::chrono::microseconds since_request_start() const;
  void log_head() const;
  void keep_unparsed();
  std::span<char> unparsed() noexcept { return {source_ + begin_, end_ - begin_}; }
  bool reading_request() const noexcept { return work_ && work_->parser; }
  bool between_requests() const noexcept {
    return !work_ || (!work_->parser && begin_ == end_ && !work_->sending());
  }

  // HTTPS: the session, and the small buffer its reads of the socket fill
  // (OpenSSL may hold a request's bytes already: TLS reads, where a plain
  // connection waits for readability; see read_first_bytes()).
  struct Tls {
    Tls(const TlsContext& context, int socket) : session(context, socket) {}
    TlsSession session;
    std::array<char, 256> first_bytes;
  };

  Socket socket_;
  std::unique_ptr<Tls> tls_;  // none for plain HTTP
  ConnectionSlots::Slot slot_;
  const ConnectionLoop& loop_;
  std::unique_ptr<Workspace> work_;         // borrowed while a request is in progress
  PeerAddress peer_;

  State state_ = State::idle;
  Nagle nagle_ = Nagle::before_first_write;
  bool stopping_ = false;        // the server is stopping: no request after the one in progress
  bool overdue_ = false;         // the deadline passed: the socket was cancelled, a grace runs
  bool tls_wants_read_ = false;  // what the last TLS write waits for (a read, rarely)
  bool read_dry_ = false;        // the last read emptied the socket, and serve() has not run since

  // The unparsed input is source_[begin_, end_): in the worker's buffer
  // right after a read, else in work_->input.
  char* source_ = nullptr;
  std::size_t begin_ = 0, end_ = 0;

  Clock::time_point deadline_;  // the watchdog may wake it earlier, and then waits on
};

}  // namespace verbd::net
