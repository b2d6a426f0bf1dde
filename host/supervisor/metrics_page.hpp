// The Prometheus page ([metrics] listen): the board's counters added up over
// every event loop of every worker process, in Prometheus's text format,
// served by the supervisor on a listener of its own, apart from the
// requests it counts.
//
// The supervisor never blocks, so neither does this: its sockets are
// non-blocking and looked at on each turn of the supervisor's poll loop.
// A scrape is one small request and one response of a few kilobytes, then
// the connection closes; a client that sends nothing in 5 s is dropped.
#pragma once

#include "board/board.hpp"
#include "common/fd.hpp"

#include <poll.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace verbd::supervisor {

// The page: every counter of common/metrics.hpp, the open connections and
// the plugin generation.
std::string render_metrics(board::Board& board);

class MetricsListener {
 public:
  // Throws std::runtime_error naming the address when it cannot listen.
  MetricsListener(const std::string& host, std::uint16_t port);
  std::uint16_t port() const noexcept { return port_; }

  // The sockets to poll, appended to `watched`.
  void watch(std::vector<pollfd>& watched) const;
  // Accepts, reads and answers what it can without waiting.
  void serve(board::Board& board);

 private:
  struct Client {
    Fd socket;
    std::string input, output;
    std::size_t sent = 0;
    std::chrono::steady_clock::time_point deadline;
  };

  void accept_all();
  bool read_request(Client& client, board::Board& board);  // false: done with it
  static bool write_response(Client& client);              // false: done with it
  static std::string response_to(std::string_view request_line, board::Board& board);

  Fd listener_;
  std::uint16_t port_ = 0;
  std::vector<Client> clients_;
};

}  // namespace verbd::supervisor
