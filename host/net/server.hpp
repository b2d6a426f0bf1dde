// The listening side: `workers` threads, each with its own io_context and
// its own SO_REUSEPORT acceptor, so that a connection lives and dies on one
// thread and no lock is shared between workers on the request path.
#pragma once

#include "config/config.hpp"
#include "net/connection.hpp"
#include "net/connection_slots.hpp"
#include "plugin/generation.hpp"
#include "store/store.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace verbd::net {

struct ServerSettings {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port; see port()
  unsigned workers = 1;
  // Workers under SCHED_BATCH: a worker woken by a client's bytes does not
  // preempt the thread running on its core; it runs when that one blocks or
  // its time slice ends, and then answers all that arrived meanwhile in one
  // turn. With more busy threads than cores (two workers and a load
  // generator on two cores) that cut context switches from 21,000 to 900 a
  // second and raised throughput by a third, p99 latency about the same. It
  // needs no privilege; a machine shared with interactive programs may
  // prefer the normal policy.
  bool batch_scheduling = true;
  std::size_t max_connections = 10000;
  ConnectionSettings connection;
};

// The listening side's share of the configuration.
ServerSettings settings_from(const config::Config& config);

class Server {
 public:
  Server(ServerSettings settings, store::Store& store, const plugin::Registry& plugins);
  ~Server();

  // Binds every worker's acceptor and starts the threads. Throws
  // std::runtime_error naming the address when it cannot listen.
  void start();
  std::uint16_t port() const noexcept { return port_; }
  // Stops accepting, lets connections finish the request in progress, and
  // after `drain` stops whatever is left. Safe from any thread.
  void stop(std::chrono::milliseconds drain);
  // Returns once every worker thread has ended.
  void wait();

 private:
  class Worker;

  ServerSettings settings_;
  ConnectionSlots slots_;
  store::Store& store_;
  const plugin::Registry& plugins_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::uint16_t port_ = 0;
};

}  // namespace verbd::net
