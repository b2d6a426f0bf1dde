#include "supervisor/metrics_page.hpp"

#include "net/server.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace verbd::supervisor {
namespace {

constexpr std::size_t max_clients = 16;
constexpr std::size_t max_request_bytes = 4096;
constexpr std::chrono::seconds client_time{5};

using metrics::Counter;

std::uint64_t read(const Counter& counter) { return counter.load(std::memory_order_relaxed); }

// The sum of one counter over every loop.
template <class Pick>
std::uint64_t total(board::Board& board, Pick pick) {
  std::uint64_t sum = 0;
  for (auto& loop : board.loop_metrics()) sum += read(pick(loop));
  return sum;
}

void header(std::string& page, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(page), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void render_requests(std::string& page, board::Board& board) {
  header(page, "verbd_requests_total", "counter", "Responses sent, by request method and status class.");
  for (std::size_t m = 0; m < metrics::method_slots; ++m) {
    std::string_view method = m < metrics::methods.size() ? metrics::methods[m] : "other";
    for (std::size_t c = 0; c < 5; ++c)
      fmt::format_to(std::back_inserter(page), "verbd_requests_total{{method=\"{}\",code=\"{}xx\"}} {}\n", method,
                     c + 1, total(board, [&](metrics::Loop& loop) -> Counter& { return loop.responses[m][c]; }));
  }
}

void render_latency(std::string& page, board::Board& board) {
  header(page, "verbd_request_duration_seconds", "histogram",
         "From a request's first byte to its response queued for sending.");
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b <= metrics::latency_bounds_us.size(); ++b) {
    cumulative += total(board, [&](metrics::Loop& loop) -> Counter& { return loop.latency[b]; });
    std::string bound = b < metrics::latency_bounds_us.size()
                            ? fmt::format("{}", metrics::latency_bounds_us[b] / 1e6)
                            : std::string("+Inf");
    fmt::format_to(std::back_inserter(page), "verbd_request_duration_seconds_bucket{{le=\"{}\"}} {}\n", bound,
                   cumulative);
  }
  auto sum_us = total(board, [](metrics::Loop& loop) -> Counter& { return loop.latency_sum_us; });
  fmt::format_to(std::back_inserter(page),
                 "verbd_request_duration_seconds_sum {}\nverbd_request_duration_seconds_count {}\n",
                 static_cast<double>(sum_us) / 1e6, cumulative);
}

void render_one(std::string& page, std::string_view name, std::string_view type, std::string_view help,
                std::uint64_t value) {
  header(page, name, type, help);
  fmt::format_to(std::back_inserter(page), "{} {}\n", name, value);
}

}  // namespace

std::string render_metrics(board::Board& board) {
  std::string page;
  render_requests(page, board);
  render_latency(page, board);
  render_one(page, "verbd_received_bytes_total", "counter", "Bytes read from clients.",
             total(board, [](metrics::Loop& loop) -> Counter& { return loop.received_bytes; }));
  render_one(page, "verbd_sent_bytes_total", "counter", "Bytes of responses, heads and bodies.",
             total(board, [](metrics::Loop& loop) -> Counter& { return loop.sent_bytes; }));
  std::uint64_t open = 0;
  for (auto& counter : board.open_connections()) open += read(counter.value);
  render_one(page, "verbd_open_connections", "gauge", "Client connections open now.", open);
  render_one(page, "verbd_plugin_generation", "gauge", "The number of the plugin set in force.",
             board.latest_generation().load(std::memory_order_relaxed));
  auto& events = board.events();
  header(page, "verbd_plugin_failures_total", "counter",
         "Plugin calls that failed: error (500), timeout (503), queue_full (503), crash (a worker died).");
  for (auto [kind, counter] : {std::pair<std::string_view, Counter*>{"error", &events.plugin_errors},
                               {"timeout", &events.plugin_timeouts},
                               {"queue_full", &events.plugin_queue_full},
                               {"crash", &events.plugin_crashes}})
    fmt::format_to(std::back_inserter(page), "verbd_plugin_failures_total{{kind=\"{}\"}} {}\n", kind, read(*counter));
  render_one(page, "verbd_plugin_quarantines_total", "counter", "Plugins quarantined for crashing workers.",
             read(events.quarantines));
  render_one(page, "verbd_worker_restarts_total", "counter", "Worker processes that ended and were started again.",
             read(events.worker_restarts));
  render_one(page, "verbd_store_errors_total", "counter", "Store calls that failed on I/O or space.",
             read(events.store_errors));
  header(page, "verbd_tls_handshakes_total", "counter", "TLS handshakes, by result.");
  fmt::format_to(std::back_inserter(page), "verbd_tls_handshakes_total{{result=\"ok\"}} {}\n",
                 total(board, [](metrics::Loop& loop) -> Counter& { return loop.tls_handshakes; }));
  fmt::format_to(std::back_inserter(page), "verbd_tls_handshakes_total{{result=\"failed\"}} {}\n",
                 total(board, [](metrics::Loop& loop) -> Counter& { return loop.tls_handshake_failures; }));
  return page;
}

MetricsListener::MetricsListener(const std::string& host, std::uint16_t port) {
  auto listeners = net::open_listeners(host, port, 1);
  listener_ = std::move(listeners.front());
  ::fcntl(listener_.get(), F_SETFL, O_NONBLOCK);  // accept4 in serve() must never wait
  port_ = net::bound_port(listener_);
}

void MetricsListener::watch(std::vector<pollfd>& watched) const {
  watched.push_back({listener_.get(), POLLIN, 0});
  for (const auto& client : clients_)
    watched.push_back({client.socket.get(), static_cast<short>(client.output.empty() ? POLLIN : POLLOUT), 0});
}

void MetricsListener::serve(board::Board& board) {
  accept_all();
  auto now = std::chrono::steady_clock::now();
  std::erase_if(clients_, [&](Client& client) {
    if (now > client.deadline) return true;
    return client.output.empty() ? !read_request(client, board) : !write_response(client);
  });
}

void MetricsListener::accept_all() {
  while (clients_.size() < max_clients) {
    Fd socket(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!socket.ok()) return;
    clients_.push_back({std::move(socket), {}, {}, 0, std::chrono::steady_clock::now() + client_time});
  }
}

bool MetricsListener::read_request(Client& client, board::Board& board) {
  char bytes[1024];
  ssize_t n = ::recv(client.socket.get(), bytes, sizeof bytes, 0);
  if (n < 0) return errno == EAGAIN || errno == EINTR;
  if (n == 0) return false;
  client.input.append(bytes, static_cast<std::size_t>(n));
  if (client.input.find("\r\n\r\n") == std::string::npos && client.input.find("\n\n") == std::string::npos)
    return client.input.size() < max_request_bytes;
  client.output = response_to(std::string_view(client.input).substr(0, client.input.find_first_of("\r\n")), board);
  return write_response(client);
}

bool MetricsListener::write_response(Client& client) {
  ssize_t n = ::send(client.socket.get(), client.output.data() + client.sent, client.output.size() - client.sent,
                     MSG_NOSIGNAL);
  if (n < 0) return errno == EAGAIN || errno == EINTR;
  client.sent += static_cast<std::size_t>(n);
  return client.sent < client.output.size();
}

// GET /metrics; anything else is 404 or 405. Every response ends the connection.
std::string MetricsListener::response_to(std::string_view request_line, board::Board& board) {
  auto respond = [](std::string_view status, std::string_view type, const std::string& body) {
    return fmt::format("HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                       status, type, body.size(), body);
  };
  bool get = request_line.starts_with("GET "), head = request_line.starts_with("HEAD ");
  std::string_view target = request_line.substr(request_line.find(' ') + 1);
  target = target.substr(0, target.find(' '));
  if (!get && !head) return respond("405 Method Not Allowed", "text/plain", "GET /metrics\n");
  if (target != "/metrics" && !target.starts_with("/metrics?"))
    return respond("404 Not Found", "text/plain", "the metrics are at /metrics\n");
  std::string response = respond("200 OK", "text/plain; version=0.0.4; charset=utf-8", render_metrics(board));
  if (head) response.resize(response.find("\r\n\r\n") + 4);
  return response;
}

}  // namespace verbd::supervisor
