// The configuration: the TOML file, read and checked once, as typed values.
//
// Every key is documented in config/verbd.toml. Relative paths are resolved
// against the folder of the config file. Unknown keys are errors, so that a
// typo does not silently fall back to a default.
#pragma once

#include <spdlog/common.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace verbd::config {

// One plugin setting, as TOML typed it.
using Setting = std::variant<std::string, std::int64_t, double, bool>;
using Settings = std::map<std::string, Setting, std::less<>>;

struct Server {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port
  unsigned workers = 2;       // event loops, all processes together; 0 in the file: one per core
  // Worker processes the event loops are spread over; 0 in the file: one
  // per event loop with the files store, 1 with the memory store (resolved
  // on load).
  unsigned processes = 0;
  std::string name = "verbd";
  bool batch_scheduling = true;  // worker threads under SCHED_BATCH (net/server.hpp says why)
  // Threads per event loop that run the calls of plugins that may block
  // (dispatch/plugin_pool.hpp).
  unsigned plugin_threads = 16;
};

struct Limits {
  std::size_t max_request_line_bytes = 8192;
  std::size_t max_header_bytes = 16384;
  // As Apache's LimitRequestBody: a file server's uploads (disk images,
  // videos, backups) fit, and a runaway client is stopped at a bound.
  std::uint64_t max_body_bytes = std::uint64_t{1} << 30;
  // A larger body is written to a file as it arrives, not held in memory.
  std::uint64_t body_in_memory_bytes = 64 * 1024;
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds idle_timeout{15000};
  std::chrono::milliseconds shutdown_drain{5000};
  std::size_t max_connections = 10000;  // across all workers; one more is answered 503
  // A plugin call that takes longer is answered 503 and its thread written
  // off; one sending its body in pieces, longer for one piece: cut short.
  std::chrono::milliseconds handler_timeout{30000};
  // Plugin calls waiting for a thread, per event loop; one more is answered 503.
  std::size_t plugin_queue = 1024;
};

struct Plugins {
  std::filesystem::path directory;
  bool watch = true;
  // A plugin that crashes workers quarantine_after times within
  // quarantine_window is quarantined: its methods answer 503.
  unsigned quarantine_after = 3;
  std::chrono::seconds quarantine_window{60};
  std::map<std::string, Settings, std::less<>> settings;  // by lower-case method: [plugins.get]
  // The methods whose table says isolation = "process" (dispatch/isolated.hpp).
  std::set<std::string, std::less<>> isolated;
};

struct RedisNode {
  std::string host;
  std::uint16_t port = 0;
};

// The redis store's server, or cluster, and how far a write must have gone
// before it is answered (README, "Several hosts: the redis store").
struct Redis {
  std::string url = "redis://127.0.0.1:6379/0";  // redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]
  // From the URL, and the username and password keys, which win over it.
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  unsigned database = 0;
  std::string username;
  std::string password;
  // Some nodes of a Redis Cluster, to find the others from: set instead of url.
  std::vector<RedisNode> cluster;
  std::string prefix = "verbd";                  // keys are "{PREFIX}:...": one hash slot
  std::chrono::milliseconds timeout{2000};       // to connect, and for each command
  unsigned wait_replicas = 0;                    // WAIT for this many replicas after a write
  std::chrono::milliseconds wait_timeout{1000};  // ... this long at most, else 503
};

// "HOST:PORT" (or "[IPv6]:PORT") into its parts; false when it is not that.
bool split_host_port(std::string_view text, std::string& host, std::uint16_t& port);

// Fills `redis`'s host, port, database and (when the URL has them) username
// and password from `url`; the empty string, or what is wrong with it.
std::string read_redis_url(const std::string& url, Redis& redis);

struct Store {
  std::string backend = "files";  // "files", "memory" or "redis"
  std::filesystem::path root;
  bool fsync = true;
  // files store: how long a small resource kept in memory is served without
  // looking at its file for changes made by other programs (writes through
  // verbd are seen at once).
  std::chrono::milliseconds recheck{100};
  Redis redis{};
};

// How an access-log line looks: the Combined Log Format that log analysers
// read (Apache's and nginx's "combined"), verbd's own, or a JSON object.
enum class AccessFormat { combined, verbd, json };

struct Log {
  spdlog::level::level_enum level = spdlog::level::info;
  bool access = true;
  AccessFormat access_format = AccessFormat::combined;
  std::filesystem::path access_file;  // empty: stderr
  std::filesystem::path error_file;   // every other line; empty: stderr
};

// HTTPS, beside plain HTTP; on when [tls] is there.
struct Tls {
  bool enabled = false;
  std::uint16_t port = 8443;          // on [server] host; 0: any free port
  std::filesystem::path certificate;  // PEM: the certificate, then its chain
  std::filesystem::path key;          // PEM
  // TLS 1.2's cipher list (OpenSSL's syntax); TLS 1.3 has its own, all of
  // them sound. The default is Mozilla's "intermediate".
  std::string ciphers =
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
      "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
      "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";
};

// The Prometheus page, on a listener of its own; off unless `listen` is set.
struct Metrics {
  bool enabled = false;
  std::string host = "127.0.0.1";
  std::uint16_t port = 9145;  // 0: any free port
};

struct Config {
  std::filesystem::path file;
  Server server;
  Limits limits;
  Plugins plugins;
  Store store;
  Log log;
  Tls tls;
  Metrics metrics;
};

// "verbd.toml:4:8: server.port must be ..." — file, line, column, what.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Config load(const std::filesystem::path& file);  // throws Error

// "debug" -> spdlog::level::debug; throws Error for anything else.
spdlog::level::level_enum parse_level(const std::string& name);

}  // namespace verbd::config
