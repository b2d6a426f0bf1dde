// One client connection: reads requests, hands each to the exchange, writes
// the responses back in order. Runs as a coroutine on its worker's thread;
// nothing in it is shared with another thread.
//
// Pipelined requests already buffered are answered before the next read,
// and their responses leave in one write. An idle connection holds no input
// buffer: it reads into its worker's, and keeps only an incomplete request.
// A watchdog timer enforces the deadlines (header, body, idle, write) by
// cancelling the socket.
#pragma once

#include "http/exchange.hpp"
#include "http/parser.hpp"
#include "http/request.hpp"
#include "http/response.hpp"
#include "net/connection_slots.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace verbd::net {

struct ConnectionSettings {
  http::ParserLimits limits;
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds idle_timeout{15000};
  std::string server_name = "verbd";
  bool access_log = true;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Clock = std::chrono::steady_clock;

  Connection(boost::asio::ip::tcp::socket socket, ConnectionSlots::Slot slot,
             const ConnectionSettings& settings, store::Store& store, const plugin::Registry& plugins);

  void start();
  // Graceful shutdown: close now if idle, else after the response in progress.
  void stop_when_idle();

 private:
  enum class Next { read, send_continue, close };

  boost::asio::awaitable<void> run();
  void watch_deadline();
  void on_deadline();
  boost::asio::awaitable<bool> read_more();
  boost::asio::awaitable<bool> flush();
  boost::asio::awaitable<void> close(bool linger);

  Next serve_buffered();
  Next on_header_done();
  Next on_request_done();
  Next refuse(int status, std::string_view why);
  void queue(const http::Response& response, bool keep_alive, int version);
  void set_deadline(Clock::time_point deadline);
  void log_access(int status, std::uint64_t bytes) const;
  void log_head() const;
  void keep_unparsed();
  std::span<char> unparsed() noexcept { return {source_ + begin_, end_ - begin_}; }

  boost::asio::ip::tcp::socket socket_;
  ConnectionSlots::Slot slot_;
  boost::asio::steady_timer timer_;
  const ConnectionSettings& settings_;
  http::Exchange exchange_;
  std::string peer_;

  // The unparsed input is source_[begin_, end_): in the worker's buffer
  // right after a read, else in input_, the connection's own.
  char* source_ = nullptr;
  std::size_t begin_ = 0, end_ = 0;
  std::vector<char> input_;
  std::string output_;

  std::optional<http::Parser> parser_;
  http::Request request_;
  http::Response response_;
  Clock::time_point request_start_;
  bool continue_answered_ = false;
  bool input_unread_ = false;  // a request was refused before all of it was read

  Clock::time_point deadline_;
  Clock::time_point armed_until_ = Clock::time_point::max();  // what the watchdog sleeps until
  bool idle_ = false;
  bool timed_out_ = false;
  bool stopping_ = false;
};

}  // namespace verbd::net
