// The listening side of one process: event-loop threads, each with its own
// io_context, its own SO_REUSEPORT listening socket and its own Responder,
// so that a connection lives and dies on one thread and no lock is shared
// between workers on the request path.
//
// Under a supervisor (supervisor/supervisor.hpp) the sockets are the
// supervisor's, opened once and handed to each worker process it forks, so
// that they stay open when a worker dies.
#pragma once

#include "common/fd.hpp"
#include "common/metrics.hpp"
#include "common/padded_counter.hpp"
#include "config/config.hpp"
#include "http/responder.hpp"
#include "net/connection.hpp"
#include "net/connection_slots.hpp"
#include "net/tls.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace verbd::net {

// The listening side's share of the configuration; config::Config holds
// the defaults.
struct ServerSettings {
  std::string host;
  std::uint16_t port = 0;  // 0: any free port; see port()
  unsigned workers = 0;    // 0 is taken as 1
  // Workers under SCHED_BATCH: a worker woken by a client's bytes does not
  // preempt the thread running on its core; it runs when that one blocks or
  // its time slice ends, and then answers all that arrived meanwhile in one
  // turn. With more busy threads than cores (workers and a load generator
  // on the same cores) that spares most context switches (README,
  // Performance, has the figures). It needs no privilege; a machine shared
  // with interactive programs may prefer the normal policy.
  bool batch_scheduling = false;
  std::size_t max_connections = 0;
  ConnectionSettings connection;
  // HTTPS on tls_port, beside plain HTTP on port, when set.
  std::optional<TlsSettings> tls;
  std::uint16_t tls_port = 0;
};

// The listening side's share of the configuration.
ServerSettings settings_from(const config::Config& config);

// What a supervisor hands one worker process: its listening sockets, one per
// event loop, and every loop's connection counter, of all processes, with
// the index of this process's first loop among them.
struct Placement {
  std::vector<Fd> listeners;
  std::vector<Fd> tls_listeners;  // HTTPS: one per event loop too, or none
  std::span<PaddedCounter> open_connections;
  std::span<metrics::Loop> metrics;  // every loop's, as open_connections
  std::size_t first_loop = 0;
};

// `count` sockets bound to host:port with SO_REUSEPORT, listening; the
// kernel spreads new connections over them. With port 0 the first picks a
// free port and the others take the same. On a loopback address their
// connections send through a buffer of loopback_send_buffer_bytes (below).
// Throws std::runtime_error naming the address when it cannot listen.
std::vector<Fd> open_listeners(const std::string& host, std::uint16_t port, unsigned count);

// The send buffer asked for the connections of a loopback listener (Linux
// doubles it for its own bookkeeping), instead of the kernel's, which grows
// with the connection. On loopback the kernel delivers the bytes to the
// reader within the writer's call: a buffer grown large takes a whole large
// response in one `sendfile`, and delivering it all at once costs both ends
// far more processor time than delivering it as the reader takes it. It
// has room for several of loopback's 64 KiB segments: with room for one
// only, each next one waited, most likely for the reader's delayed ACK
// (40 ms). Over a network it would cap a connection at its size per round
// trip, so it applies only where every peer is on this machine (a proxy in
// front of verbd on 127.0.0.1, say).
inline constexpr int loopback_send_buffer_bytes = 128 * 1024;

// The port a listening socket is bound to.
std::uint16_t bound_port(const Fd& listener);

class Server {
 public:
  // Each worker answers its requests with a Responder from `responders`.
  // Without a placement the server opens `settings.workers` sockets of its
  // own and counts only its own connections; with one, it runs one worker
  // per socket it is given.
  Server(ServerSettings settings, http::ResponderFactory responders, Placement placement = {});
  ~Server();

  // Starts the threads; opens the sockets first when none were given.
  // Throws std::runtime_error naming the address when it cannot listen.
  // With TLS, throws std::runtime_error naming a certificate or key that does not serve.
  void start();
  std::uint16_t port() const noexcept { return port_; }
  std::uint16_t tls_port() const noexcept { return tls_port_; }
  // Loads the certificate and key again (SIGHUP): new connections get them,
  // open ones keep theirs. When they do not serve, the old ones stay and the
  // returned text says why (empty: reloaded, or no TLS).
  std::string reload_tls();
  // Stops accepting, lets connections finish the request in progress, and
  // after `drain` stops whatever is left. Safe from any thread.
  void stop(std::chrono::milliseconds drain);
  // Returns once every worker thread has ended.
  void wait();

 private:
  class Worker;

  ServerSettings settings_;
  Placement placement_;
  std::vector<PaddedCounter> own_counters_;  // without a placement
  std::unique_ptr<metrics::Loop[]> own_metrics_;
  std::unique_ptr<ConnectionSlots> slots_;
  http::ResponderFactory responders_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::uint16_t port_ = 0, tls_port_ = 0;
  // The TLS context new connections take; swapped whole by reload_tls().
  mutable std::mutex tls_mutex_;
  std::shared_ptr<const TlsContext> tls_context_;
  std::shared_ptr<const TlsContext> tls_context() const;
};

}  // namespace verbd::net
