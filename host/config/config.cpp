#include "config/config.hpp"

#include <toml++/toml.h>
#include <boost/url/parse.hpp>

#include <charconv>

#include <set>
#include <thread>

namespace verbd::config {
namespace {

std::string where(const std::filesystem::path& file, const toml::source_region& region) {
  return file.string() + ":" + std::to_string(region.begin.line) + ":" + std::to_string(region.begin.column) +
         ": ";
}

// Reads one table's keys, each with its own check; refuses keys it does not know.
class Section {
 public:
  Section(const std::filesystem::path& file, const toml::table& root, std::string name)
      : file_(file), name_(std::move(name)) {
    const toml::node* node = root.get(name_);
    if (node == nullptr) return;
    table_ = node->as_table();
    if (table_ == nullptr) throw Error(where(file_, node->source()) + "[" + name_ + "] must be a table");
  }

  template <class T>
  void read(const std::string& key, T& target, std::int64_t low = 0, std::int64_t high = INT64_MAX) {
    known_.insert(key);
    const toml::node* node = table_ ? table_->get(key) : nullptr;
    if (node == nullptr) return;
    if constexpr (std::is_same_v<T, bool>) {
      auto value = node->is_boolean() ? node->value<bool>() : std::nullopt;
      if (!value) fail(*node, key, "must be true or false");
      target = *value;
    } else if constexpr (std::is_same_v<T, std::string>) {
      auto value = node->is_string() ? node->value<std::string>() : std::nullopt;
      if (!value) fail(*node, key, "must be a string");
      target = *value;
    } else {
      auto value = node->is_integer() ? node->value<std::int64_t>() : std::nullopt;
      if (!value || *value < low || *value > high)
        fail(*node, key, "must be an integer from " + std::to_string(low) + " to " + std::to_string(high));
      target = static_cast<T>(*value);
    }
  }

  void read_path(const std::string& key, std::filesystem::path& target) {
    std::string text;
    read(key, text);
    if (!text.empty()) target = file_.parent_path() / text;
  }

  void read_milliseconds(const std::string& key, std::chrono::milliseconds& target) {
    std::int64_t value = target.count();
    read(key, value, 1, 24 * 3600 * 1000);
    target = std::chrono::milliseconds(value);
  }

  // An array of strings.
  void read_strings(const std::string& key, std::vector<std::string>& target) {
    known_.insert(key);
    const toml::node* node = table_ ? table_->get(key) : nullptr;
    if (node == nullptr) return;
    const toml::array* array = node->as_array();
    if (array == nullptr || !array->is_homogeneous(toml::node_type::string))
      fail(*node, key, "must be an array of strings");
    target.clear();
    for (const auto& item : *array) target.push_back(*item.value<std::string>());
  }

  // Refuses keys nobody read; `nested` names tables handled elsewhere.
  void refuse_unknown(bool allow_tables = false) const {
    if (table_ == nullptr) return;
    for (const auto& [key, node] : *table_) {
      if (known_.count(std::string(key.str())) || (allow_tables && node.is_table())) continue;
      throw Error(where(file_, key.source()) + "unknown key '" + std::string(key.str()) + "' in [" + name_ +
                  "]");
    }
  }

  [[noreturn]] void fail(const toml::node& node, const std::string& key, const std::string& what) const {
    throw Error(where(file_, node.source()) + name_ + "." + key + " " + what);
  }

  const toml::table* table() const { return table_; }

 private:
  const std::filesystem::path& file_;
  std::string name_;
  const toml::table* table_ = nullptr;
  std::set<std::string> known_;
};

void read_server(const std::filesystem::path& file, const toml::table& root, Server& server) {
  Section section(file, root, "server");
  section.read("host", server.host);
  section.read("port", server.port, 0, 65535);
  section.read("workers", server.workers, 0, 1024);
  section.read("processes", server.processes, 0, 1024);
  section.read("name", server.name);
  section.read("batch_scheduling", server.batch_scheduling);
  section.read("plugin_threads", server.plugin_threads, 1, 1024);
  section.refuse_unknown();
  if (server.workers == 0) server.workers = std::max(1u, std::thread::hardware_concurrency());
  for (char c : server.name)
    if (c < 0x20 || c == 0x7f) throw Error(file.string() + ": server.name must be printable");
}

// Every process runs at least one event loop; the memory store lives in
// one process's memory, so it allows one process only.
void resolve_processes(const std::filesystem::path& file, Config& config) {
  Server& server = config.server;
  bool memory = config.store.backend == "memory";
  if (server.processes == 0) server.processes = memory ? 1 : server.workers;
  if (memory && server.processes > 1)
    throw Error(file.string() +
                ": server.processes must be 1 with the memory store: each worker process would hold a "
                "store of its own, and what one of them stored the others would not see (use backend = "
                "\"files\", or processes = 1)");
  if (memory && !config.plugins.isolated.empty())
    throw Error(file.string() + ": plugins." + *config.plugins.isolated.begin() +
                ".isolation = \"process\" needs the files store: the memory store lives in the worker "
                "process, which the plugin's process cannot reach");
  if (server.processes > server.workers)
    throw Error(file.string() + ": server.processes (" + std::to_string(server.processes) +
                ") is more than server.workers (" + std::to_string(server.workers) +
                "): each worker process runs at least one of the workers (event loops)");
}

void read_limits(const std::filesystem::path& file, const toml::table& root, Limits& limits) {
  Section section(file, root, "limits");
  section.read("max_request_line_bytes", limits.max_request_line_bytes, 64, 1 << 20);
  section.read("max_header_bytes", limits.max_header_bytes, 256, 1 << 24);
  section.read("max_body_bytes", limits.max_body_bytes, 0, INT64_MAX);
  section.read("body_in_memory_bytes", limits.body_in_memory_bytes, 0, 1 << 30);
  section.read_milliseconds("header_timeout_ms", limits.header_timeout);
  section.read_milliseconds("idle_timeout_ms", limits.idle_timeout);
  section.read_milliseconds("shutdown_drain_ms", limits.shutdown_drain);
  section.read("max_connections", limits.max_connections, 1, 1 << 24);
  section.read_milliseconds("handler_timeout_ms", limits.handler_timeout);
  section.read("plugin_queue", limits.plugin_queue, 0, 1 << 24);
  section.refuse_unknown();
}

Setting to_setting(const std::filesystem::path& file, const std::string& key, const toml::node& node) {
  if (auto text = node.value<std::string>(); text && node.is_string()) return *text;
  if (auto flag = node.value<bool>(); flag && node.is_boolean()) return *flag;
  if (auto number = node.value<std::int64_t>(); number && node.is_integer()) return *number;
  if (auto number = node.value<double>(); number && node.is_floating_point()) return *number;
  throw Error(where(file, node.source()) + key + " must be a string, integer, float or boolean");
}

void read_plugins(const std::filesystem::path& file, const toml::table& root, Plugins& plugins) {
  Section section(file, root, "plugins");
  section.read_path("directory", plugins.directory);
  section.read("watch", plugins.watch);
  section.read("quarantine_after", plugins.quarantine_after, 1, 1000);
  std::int64_t window = plugins.quarantine_window.count();
  section.read("quarantine_window_s", window, 1, 24 * 3600);
  plugins.quarantine_window = std::chrono::seconds(window);
  section.refuse_unknown(true);
  if (section.table() == nullptr) return;
  for (const auto& [method, node] : *section.table()) {
    if (!node.is_table()) continue;
    Settings& settings = plugins.settings[std::string(method.str())];
    for (const auto& [key, value] : *node.as_table()) {
      std::string name = "plugins." + std::string(method.str()) + "." + std::string(key.str());
      settings[std::string(key.str())] = to_setting(file, name, value);
      // The one key of these tables that is the host's, not the plugin's.
      if (key.str() != "isolation") continue;
      if (value.value<std::string>() != "process" && value.value<std::string>() != "none")
        throw Error(where(file, value.source()) + name + " must be \"process\" or \"none\"");
      if (value.value<std::string>() == "process") plugins.isolated.emplace(method.str());
    }
  }
}

}  // namespace

bool split_host_port(std::string_view text, std::string& host, std::uint16_t& port) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  unsigned number = 0;
  auto digits = text.substr(colon + 1);
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
  if (digits.empty() || error != std::errc{} || end != digits.data() + digits.size() || number > 65535)
    return false;
  host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  port = static_cast<std::uint16_t>(number);
  return true;
}

std::string read_redis_url(const std::string& url, Redis& redis) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->scheme() != "redis" || !parsed->has_authority() || parsed->host().empty())
    return "must be redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]";
  if (parsed->has_query() || parsed->has_fragment()) return "must have no query (?) or fragment (#)";
  redis.host = parsed->host_address();
  if (parsed->has_port()) {
    if (parsed->port_number() == 0) return "must have a port from 1 to 65535";
    redis.port = parsed->port_number();
  }
  std::string path = parsed->path();
  if (!path.empty() && path != "/") {
    unsigned database = 0;
    auto [end, error] = std::from_chars(path.data() + 1, path.data() + path.size(), database);
    if (error != std::errc{} || end != path.data() + path.size())
      return "must end with a database number, as in redis://HOST:PORT/0";
    redis.database = database;
  }
  if (parsed->has_userinfo()) {
    redis.username = parsed->user();
    redis.password = parsed->password();
  }
  return {};
}

namespace {

void read_redis(Section& section, Redis& redis) {
  section.read("url", redis.url);
  if (const toml::node* node = section.table() ? section.table()->get("url") : nullptr)
    if (std::string problem = read_redis_url(redis.url, redis); !problem.empty())
      section.fail(*node, "url", problem);
  std::vector<std::string> seeds;
  section.read_strings("cluster", seeds);
  for (const auto& seed : seeds) {
    RedisNode node;
    if (!split_host_port(seed, node.host, node.port) || node.port == 0)
      section.fail(*section.table()->get("cluster"), "cluster",
                   "must list nodes as \"HOST:PORT\", not \"" + seed + "\"");
    redis.cluster.push_back(node);
  }
  if (!redis.cluster.empty() && section.table()->get("url") != nullptr)
    section.fail(*section.table()->get("cluster"), "cluster",
                 "and url cannot both be set: a cluster is found from its nodes");
  section.read("username", redis.username);
  section.read("password", redis.password);
  section.read("prefix", redis.prefix);
  section.read_milliseconds("timeout_ms", redis.timeout);
  section.read("wait_replicas", redis.wait_replicas, 0, 100);
  section.read_milliseconds("wait_timeout_ms", redis.wait_timeout);
  if (const toml::node* node = section.table() ? section.table()->get("prefix") : nullptr)
    if (redis.prefix.empty() || redis.prefix.find_first_of("{}") != std::string::npos)
      section.fail(*node, "prefix", "must be a non-empty string without '{' or '}'");
}

// A key of one backend's, set while another backend is chosen, would do
// nothing, silently (fsync = true does not make Redis durable): refused.
void refuse_keys_of(const Section& section, const std::string& backend,
                    std::initializer_list<const char*> keys) {
  if (section.table() == nullptr) return;
  for (const char* key : keys)
    if (const toml::node* node = section.table()->get(key))
      section.fail(*node, key,
                   "is a setting of the " + backend + " store, and backend is not \"" + backend + "\"");
}

void read_store(const std::filesystem::path& file, const toml::table& root, Store& store) {
  Section section(file, root, "store");
  section.read("backend", store.backend);
  section.read_path("root", store.root);
  section.read("fsync", store.fsync);
  std::int64_t recheck = store.recheck.count();
  section.read("recheck_ms", recheck, 0, 60'000);
  store.recheck = std::chrono::milliseconds(recheck);
  read_redis(section, store.redis);
  section.refuse_unknown();
  if (store.backend != "files" && store.backend != "memory" && store.backend != "redis") {
    const toml::node* node = section.table()->get("backend");
    section.fail(*node, "backend", "must be \"files\", \"memory\" or \"redis\"");
  }
  if (store.backend != "redis")
    refuse_keys_of(section, "redis",
                   {"url", "cluster", "username", "password", "prefix", "timeout_ms", "wait_replicas",
                    "wait_timeout_ms"});
  if (store.backend != "files") refuse_keys_of(section, "files", {"fsync", "recheck_ms"});
}

void read_log(const std::filesystem::path& file, const toml::table& root, Log& log) {
  Section section(file, root, "log");
  std::string level, format;
  section.read("level", level);
  section.read("access", log.access);
  section.read("access_format", format);
  section.read_path("access_file", log.access_file);
  section.read_path("error_file", log.error_file);
  section.refuse_unknown();
  if (!format.empty()) {
    if (format == "combined")
      log.access_format = AccessFormat::combined;
    else if (format == "verbd")
      log.access_format = AccessFormat::verbd;
    else if (format == "json")
      log.access_format = AccessFormat::json;
    else
      section.fail(*section.table()->get("access_format"), "access_format",
                   "must be \"combined\", \"verbd\" or \"json\"");
  }
  if (level.empty()) return;
  try {
    log.level = parse_level(level);
  } catch (const Error& e) {
    section.fail(*section.table()->get("level"), "level", e.what());
  }
}

// [tls]: all three of port, certificate and key, or no table at all. The
// files are read when the server starts (net/tls.hpp), which names them
// when they do not serve.
void read_tls(const std::filesystem::path& file, const toml::table& root, Tls& tls) {
  Section section(file, root, "tls");
  section.read("port", tls.port, 0, 65535);
  section.read_path("certificate", tls.certificate);
  section.read_path("key", tls.key);
  section.read("ciphers", tls.ciphers);
  section.refuse_unknown();
  if (section.table() == nullptr) return;
  tls.enabled = true;
  for (auto [key, value] : {std::pair{"port", !!section.table()->get("port")},
                            {"certificate", !tls.certificate.empty()},
                            {"key", !tls.key.empty()}})
    if (!value)
      throw Error(file.string() + ": [tls] needs " + key + " (port, certificate and key, all three)");
}

// [metrics] listen = "HOST:PORT".
void read_metrics(const std::filesystem::path& file, const toml::table& root, Metrics& metrics) {
  Section section(file, root, "metrics");
  std::string listen;
  section.read("listen", listen);
  section.refuse_unknown();
  if (listen.empty()) return;
  if (!split_host_port(listen, metrics.host, metrics.port))
    section.fail(*section.table()->get("listen"), "listen", "must be \"HOST:PORT\", e.g. \"127.0.0.1:9145\"");
  metrics.enabled = true;
}

}  // namespace

spdlog::level::level_enum parse_level(const std::string& name) {
  for (auto [text, level] : {std::pair{"trace", spdlog::level::trace},
                             {"debug", spdlog::level::debug},
                             {"info", spdlog::level::info},
                             {"warn", spdlog::level::warn},
                             {"error", spdlog::level::err}}) {
    if (name == text) return level;
  }
  throw Error("must be one of trace, debug, info, warn, error");
}

Config load(const std::filesystem::path& file) {
  Config config;
  config.file = file;
  config.plugins.directory = file.parent_path() / "plugins";
  config.store.root = file.parent_path() / "data";
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    throw Error(where(file, e.source()) + std::string(e.description()));
  }
  for (const auto& [key, node] : root) {
    static const std::set<std::string> sections{"server", "limits", "plugins", "store",
                                                "log",    "tls",    "metrics"};
    if (!sections.count(std::string(key.str())))
      throw Error(where(file, key.source()) + "unknown section [" + std::string(key.str()) + "]");
  }
  read_server(file, root, config.server);
  read_limits(file, root, config.limits);
  read_plugins(file, root, config.plugins);
  read_store(file, root, config.store);
  read_log(file, root, config.log);
  read_tls(file, root, config.tls);
  read_metrics(file, root, config.metrics);
  resolve_processes(file, config);
  return config;
}

}  // namespace verbd::config
