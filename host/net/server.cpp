#include "net/server.hpp"

#include "common/host_port.hpp"
#include "log/log.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>

#include <cstring>
#include <functional>
#include <stdexcept>

namespace verbd::net {

namespace asio = boost::asio;
using asio::ip::tcp;

// One thread: an io_context, an acceptor, a Responder, and the connections
// it accepted. Like connections, it moves on by callbacks.
class Server::Worker {
 public:
  // `loop`: this worker's index among all event loops, for ConnectionSlots.
  // `tls_listener`, when ok(), is where HTTPS connections come, which take
  // their TLS context from `tls_context`.
  Worker(const ServerSettings& settings, ConnectionSlots& slots, std::size_t loop, metrics::Loop& metrics,
         Fd listener, Fd tls_listener, std::function<std::shared_ptr<const TlsContext>()> tls_context,
         std::unique_ptr<http::Responder> responder)
      : settings_(settings),
        slots_(slots),
        loop_(loop),
        metrics_(metrics),
        tls_context_(std::move(tls_context)),
        responder_(std::move(responder)) {
    adopt(http_.acceptor, std::move(listener));
    if (tls_listener.ok()) adopt(https_.acceptor, std::move(tls_listener));
  }

  void start() {
    accept(http_);
    if (https_.acceptor.is_open()) accept(https_);
    keep_pace();
    thread_ = std::thread([this] {
      metrics::count_in(&metrics_);
      if (settings_.batch_scheduling) use_batch_scheduling();
      context_.run();
      // Answers still being prepared would post to a context that is gone.
      responder_->abandon_pending();
    });
  }

  void stop(std::chrono::milliseconds drain) {
    asio::post(context_, [this, drain] {
      boost::system::error_code ignored;
      http_.acceptor.close(ignored);
      https_.acceptor.close(ignored);
      pacemaker_.cancel();
      watchdog_.for_each(
          [](Watchdog::Watched& watched) { static_cast<Connection&>(watched).stop_when_idle(); });
      drain_deadline_ = std::chrono::steady_clock::now() + drain;
      stop_when_drained();
    });
  }

  void join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  using Acceptor = asio::basic_socket_acceptor<tcp, Executor>;

  // A listening socket, plain or TLS, with its timer for retrying accept.
  struct Listening {
    Listening(asio::io_context& context, bool tls)
        : acceptor(context.get_executor()), retry(context.get_executor()), https(tls) {}
    Acceptor acceptor;
    Timer retry;
    bool https;
  };

  static void adopt(Acceptor& acceptor, Fd listener) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &length);
    acceptor.assign(address.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), listener.release());
  }

  void accept(Listening& listening) {
    listening.acceptor.async_accept(
        [this, &listening](const boost::system::error_code& error, Socket::Base socket) {
          on_accept(listening, error, Socket(std::move(socket)));
        });
  }

  void on_accept(Listening& listening, const boost::system::error_code& error, Socket socket) {
    if (error == asio::error::operation_aborted || !listening.acceptor.is_open()) return;
    if (error) {
      // Out of descriptors (EMFILE, ENFILE) or memory: the client waits in
      // the backlog while connections close; retrying at once would spin.
      warn_now_and_then("accept failed: {}; retrying every 100 ms", error.message());
      listening.retry.expires_after(std::chrono::milliseconds(100));
      listening.retry.async_wait([this, &listening](const boost::system::error_code& cancelled) {
        if (!cancelled) accept(listening);
      });
      return;
    }
    // The next accept first: its operation then takes the memory Asio kept
    // from this one, which is sized for an accept, and the connection's
    // first read gets a block of its own size instead of that larger one.
    accept(listening);
    bool https = listening.https;
    if (auto slot = slots_.take(loop_)) {
      auto context = https ? tls_context_() : nullptr;
      std::make_shared<Connection>(std::move(socket), std::move(slot), connection_loop_, context.get())
          ->start();
    } else if (https) {  // a 503 would need a handshake first, which is the cost to avoid
      warn_now_and_then("{} connections open, the maximum: closing new ones", settings_.max_connections);
    } else {
      refuse_busy(socket);
    }
  }

  // See ServerSettings::batch_scheduling. Only this thread's policy changes.
  static void use_batch_scheduling() {
    sched_param no_priority{};
    if (int error = ::pthread_setschedparam(::pthread_self(), SCHED_BATCH, &no_priority); error != 0) {
      static auto& log = verbd::log::get("server");
      log.warn("worker keeps the normal scheduling policy: SCHED_BATCH refused: {}", std::strerror(error));
    }
  }

  // Asio re-arms its timerfd (a system call) whenever a timer becomes the
  // earliest it waits for. With one connection per request, few are open,
  // and the watchdog's timer (net/watchdog.hpp), armed for the earliest
  // deadline, would often become it. This timer is always due before the
  // idle and header deadlines set since its last tick, so they never do; it
  // re-arms itself every so often (the shorter of the two timeouts). On
  // each tick it also lets the Responder drop what it need not keep, so
  // that an idle worker does not hold old plugins loaded.
  void keep_pace() {
    auto& timeouts = settings_.connection;
    pacemaker_.expires_after(std::min(timeouts.header_timeout, timeouts.idle_timeout));
    pacemaker_.async_wait([this](const boost::system::error_code& error) {
      if (error) return;
      responder_->release();
      keep_pace();
    });
  }

  // Over max_connections: a 503 sent without waiting (it fits any socket
  // buffer), then the socket is closed; serving it would cost more.
  void refuse_busy(Socket& socket) {
    warn_now_and_then("{} connections open, the maximum: answering 503 to new ones",
                      settings_.max_connections);
    busy_.reset(false);
    busy_.refuse(503, "too many connections; try again shortly");
    busy_.add_field("Retry-After", "1");
    std::string bytes;
    busy_.serialize(bytes, {settings_.connection.server_name, false, 11});
    boost::system::error_code ignored;
    socket.non_blocking(true, ignored);
    socket.write_some(asio::buffer(bytes), ignored);
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    // The request is usually there already (accepted on its first bytes);
    // closing with it unread would reset the connection, and the client
    // could lose the 503.
    char unread[4096];
    socket.read_some(asio::buffer(unread), ignored);
    socket.close(ignored);
  }

  // A warning when it first happens, then at most one per 10 s with how
  // many times it happened in between: these come in floods.
  template <typename... Args>
  void warn_now_and_then(fmt::format_string<Args...> format, Args&&... args) {
    static auto& log = verbd::log::get("server");
    auto now = std::chrono::steady_clock::now();
    ++unreported_;
    if (now - last_warning_ < std::chrono::seconds(10)) return;
    log.warn(format, std::forward<Args>(args)...);
    if (unreported_ > 1) log.warn("(that happened {} times in the last 10 s)", unreported_);
    last_warning_ = now;
    unreported_ = 0;
  }

  // Stops the thread once every connection has finished, or at the drain's
  // deadline, looking every 20 ms.
  void stop_when_drained() {
    if (watchdog_.empty() || std::chrono::steady_clock::now() >= drain_deadline_) return context_.stop();
    drain_wait_.expires_after(std::chrono::milliseconds(20));
    drain_wait_.async_wait([this](const boost::system::error_code&) { stop_when_drained(); });
  }

  const ServerSettings& settings_;
  ConnectionSlots& slots_;
  std::size_t loop_;
  metrics::Loop& metrics_;
  std::function<std::shared_ptr<const TlsContext>()> tls_context_;
  // Before context_: connections give their workspaces back as it destroys them.
  std::unique_ptr<http::Responder> responder_;
  WorkspacePool workspaces_;
  // What connections share; before context_ too, for the same reason (only
  // a reference to watchdog_, not yet made, is taken here).
  ConnectionLoop connection_loop_{settings_.connection, workspaces_, *responder_, watchdog_};
  http::Response busy_;
  std::chrono::steady_clock::time_point last_warning_{};
  std::size_t unreported_ = 0;
  // One thread runs it, and only that thread touches its sockets and
  // acceptors (other threads post to it, and a connection ends on it), so
  // Asio need not lock each socket's state for every operation; posting
  // from other threads stays locked.
  asio::io_context context_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  Listening http_{context_, false}, https_{context_, true};
  Timer pacemaker_{context_.get_executor()};
  Timer drain_wait_{context_.get_executor()};
  std::chrono::steady_clock::time_point drain_deadline_{};
  // Every open connection, by its deadline. After context_: destroyed
  // first, while the timer's context is there, leaving the connections
  // that context_ then destroys unwatched.
  Watchdog watchdog_{context_};
  std::thread thread_;
};

ServerSettings settings_from(const config::Config& config) {
  ServerSettings settings;
  settings.host = config.server.host;
  settings.port = config.server.port;
  settings.workers = config.server.workers;
  settings.batch_scheduling = config.server.batch_scheduling;
  settings.max_connections = config.limits.max_connections;
  settings.connection.limits = {config.limits.max_request_line_bytes, config.limits.max_header_bytes,
                                config.limits.max_body_bytes, config.limits.body_in_memory_bytes};
  settings.connection.header_timeout = config.limits.header_timeout;
  settings.connection.idle_timeout = config.limits.idle_timeout;
  settings.connection.server_name = config.server.name;
  settings.connection.access_log = config.log.access;
  if (config.tls.enabled) {
    settings.tls = tls_settings_from(config.tls);
    settings.tls_port = config.tls.port;
  }
  return settings;
}

std::vector<Fd> open_listeners(const std::string& host, std::uint16_t port, unsigned count) {
  boost::system::error_code error;
  auto address = asio::ip::make_address(host, error);
  if (error) throw std::runtime_error("server.host '" + host + "' is not an IP address");
  std::vector<Fd> listeners;
  for (unsigned i = 0; i < std::max(1u, count); ++i) {
    tcp::endpoint endpoint(address, port);
    Fd listener(::socket(endpoint.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
    int one = 1;
    ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    // A connection is accepted when its first bytes arrive (or after a
    // second of silence), so that accepting and reading the request take one
    // wake-up instead of two. As Apache's default "AcceptFilter http data".
    ::setsockopt(listener.get(), IPPROTO_TCP, TCP_DEFER_ACCEPT, &one, sizeof one);
    // Connections inherit their listener's send buffer (server.hpp).
    if (address.is_loopback())
      ::setsockopt(listener.get(), SOL_SOCKET, SO_SNDBUF, &loopback_send_buffer_bytes,
                   sizeof loopback_send_buffer_bytes);
    if (!listener.ok() || ::bind(listener.get(), endpoint.data(), endpoint.size()) != 0 ||
        ::listen(listener.get(), SOMAXCONN) != 0)
      throw std::runtime_error("cannot listen on " + host_and_port(host, port) + ": " + std::strerror(errno));
    // A new connection's first bytes are acknowledged at once, in a packet
    // of their own, unless its listener is in delayed-ACK ("pingpong")
    // mode, which the connections it accepts take over: then the ACK of a
    // request rides in its response's packet (or leaves after 40 ms, if no
    // response has). listen() resets the mode: set after it.
    int zero = 0;
    ::setsockopt(listener.get(), IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof zero);
    port = bound_port(listener);  // the first one picks the port for port 0
    listeners.push_back(std::move(listener));
  }
  return listeners;
}

std::uint16_t bound_port(const Fd& listener) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  if (address.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
}

Server::Server(ServerSettings settings, http::ResponderFactory responders, Placement placement)
    : settings_(std::move(settings)), placement_(std::move(placement)), responders_(std::move(responders)) {}

Server::~Server() {
  stop(std::chrono::milliseconds(0));
  wait();
}

void Server::start() {
  if (settings_.tls) tls_context_ = std::make_shared<const TlsContext>(*settings_.tls);
  if (placement_.listeners.empty()) {
    placement_.listeners = open_listeners(settings_.host, settings_.port, settings_.workers);
    if (settings_.tls)
      placement_.tls_listeners = open_listeners(settings_.host, settings_.tls_port, settings_.workers);
    own_counters_ = std::vector<PaddedCounter>(placement_.listeners.size());
    placement_.open_connections = own_counters_;
    own_metrics_ = std::make_unique<metrics::Loop[]>(placement_.listeners.size());
    placement_.metrics = {own_metrics_.get(), placement_.listeners.size()};
    placement_.first_loop = 0;
  }
  port_ = bound_port(placement_.listeners.front());
  if (!placement_.tls_listeners.empty()) tls_port_ = bound_port(placement_.tls_listeners.front());
  slots_ = std::make_unique<ConnectionSlots>(settings_.max_connections, placement_.open_connections);
  std::size_t loop = placement_.first_loop;
  for (std::size_t i = 0; i < placement_.listeners.size(); ++i) {
    Fd tls_listener = i < placement_.tls_listeners.size() ? std::move(placement_.tls_listeners[i]) : Fd();
    workers_.push_back(std::make_unique<Worker>(
        settings_, *slots_, loop, placement_.metrics[loop], std::move(placement_.listeners[i]),
        std::move(tls_listener), [this] { return tls_context(); }, responders_()));
    ++loop;
  }
  placement_.listeners.clear();
  placement_.tls_listeners.clear();
  for (auto& worker : workers_) worker->start();
}

std::shared_ptr<const TlsContext> Server::tls_context() const {
  std::lock_guard lock(tls_mutex_);
  return tls_context_;
}

std::string Server::reload_tls() {
  if (!settings_.tls) return {};
  try {
    auto fresh = std::make_shared<const TlsContext>(*settings_.tls);
    std::lock_guard lock(tls_mutex_);
    tls_context_ = std::move(fresh);
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

void Server::stop(std::chrono::milliseconds drain) {
  for (auto& worker : workers_) worker->stop(drain);
}

void Server::wait() {
  for (auto& worker : workers_) worker->join();
}

}  // namespace verbd::net
