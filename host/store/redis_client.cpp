#include "store/redis_client.hpp"

#include "common/host_port.hpp"
#include "common/slow_waits.hpp"
#include "log/log.hpp"
#include "store/store.hpp"

#include <hiredis/hiredis.h>
#include <openssl/sha.h>

#include <sys/time.h>

namespace verbd::store {

void ReplyFree::operator()(redisReply* reply) const noexcept { freeReplyObject(reply); }

std::string_view text_of(const redisReply* reply) noexcept {
  bool text = reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS ||
              reply->type == REDIS_REPLY_ERROR;
  return text ? std::string_view(reply->str, reply->len) : std::string_view();
}

bool is_error(const Reply& reply) noexcept { return reply && reply->type == REDIS_REPLY_ERROR; }

struct RedisClient::Connection {
  config::RedisNode node;
  redisContext* context = nullptr;
  ~Connection() {
    if (context != nullptr) redisFree(context);
  }
};

namespace {

// Connections beyond this many are closed when given back.
constexpr std::size_t most_idle = 64;
// A cluster that sends a command on more often than this is in trouble.
constexpr int most_redirects = 5;

timeval as_timeval(std::chrono::milliseconds time) {
  return {static_cast<time_t>(time.count() / 1000), static_cast<suseconds_t>(time.count() % 1000 * 1000)};
}

bool is_moved(const Reply& reply) { return is_error(reply) && text_of(reply).starts_with("MOVED "); }

// Errors that say the data is there but cannot be served now: a cluster
// without a majority or a slot without a master, a Redis loading its data,
// and the store's slot migrating to another node. The keys of a slot move
// one at a time, and a script touches many: on the old node it fails at
// the first key gone ("non local key"), and on the new one, which ASK
// points to, it would take a key not moved yet for one that does not
// exist. So neither is tried until the migration ends. Answered 503, like
// an outage.
bool is_passing(const Reply& reply) {
  auto text = text_of(reply);
  return text.starts_with("CLUSTERDOWN") || text.starts_with("TRYAGAIN") || text.starts_with("LOADING") ||
         text.starts_with("MASTERDOWN") || text.starts_with("ASK ") ||
         text.find("non local key") != std::string_view::npos;
}

bool operator==(const config::RedisNode& a, const config::RedisNode& b) {
  return a.host == b.host && a.port == b.port;
}

std::string describe(const config::RedisNode& node) { return host_and_port(node.host, node.port); }

// The name EVALSHA knows a script by: its SHA-1, in hex.
std::string sha1_hex(std::string_view text) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  std::string hex;
  for (unsigned char byte : digest) {
    hex += "0123456789abcdef"[byte >> 4];
    hex += "0123456789abcdef"[byte & 15];
  }
  return hex;
}

}  // namespace

std::string redis_location(const config::Redis& settings) {
  if (settings.cluster.empty())
    return host_and_port(settings.host, settings.port) + "/" + std::to_string(settings.database);
  std::string location = "cluster " + describe(settings.cluster.front());
  if (settings.cluster.size() > 1)
    location += " and " + std::to_string(settings.cluster.size() - 1) + " more";
  return location;
}

RedisClient::RedisClient(const config::Redis& settings, std::string script)
    : settings_(settings),
      nodes_(settings.cluster.empty() ? std::vector<config::RedisNode>{{settings.host, settings.port}}
                                      : settings.cluster),
      script_(std::move(script)),
      sha_(sha1_hex(script_)),
      name_("redis " + redis_location(settings)),
      target_(nodes_.front()) {}

RedisClient::~RedisClient() = default;

Reply RedisClient::run_script(std::string_view key, std::span<const std::string_view> arguments,
                              Effect effect) {
  std::vector<std::string_view> words{"EVALSHA", sha_, "1", key};
  words.insert(words.end(), arguments.begin(), arguments.end());
  std::unique_ptr<Connection> connection;
  Reply reply = run_once(words, effect, connection);
  for (int hop = 0; is_moved(reply) && hop < most_redirects; ++hop)
    reply = follow_moved(words, reply, connection);
  if (!reply) return nullptr;
  if (is_error(reply) && (is_moved(reply) || is_passing(reply))) {
    failed(std::string(text_of(reply)));
    return nullptr;
  }
  if (is_error(reply)) {
    log::get("store").error("{}: {}", name_, text_of(reply));
    give_back(std::move(connection));
    return reply;
  }
  if (effect == Effect::writes && !confirmed_by_replicas(*connection)) return nullptr;
  give_back(std::move(connection));
  succeeded();
  return reply;
}

Reply RedisClient::run_once(Words words, Effect effect, std::unique_ptr<Connection>& connection) {
  bool reused = false;
  connection = take(reused);
  if (!connection) return nullptr;
  Reply reply = evaluate(*connection, words);
  // A write is not sent twice: it may have been done before the answer was lost.
  if (!reply && reused && effect == Effect::reads) {
    connection = connect_somewhere();
    if (!connection) return nullptr;
    reply = evaluate(*connection, words);
  }
  if (!reply) failed(connection_error(*connection));
  return reply;
}

// "MOVED 866 127.0.0.1:7002": the slot is served there now, which becomes
// the target. Redis did not run the command.
Reply RedisClient::follow_moved(Words words, const Reply& moved, std::unique_ptr<Connection>& connection) {
  auto text = text_of(moved);
  config::RedisNode node;
  if (!config::split_host_port(text.substr(text.rfind(' ') + 1), node.host, node.port)) {
    failed("cannot follow the redirect \"" + std::string(text) + "\"");
    return nullptr;
  }
  if (node.host.empty()) node.host = connection->node.host;  // Redis knows no address for it: the same host
  retarget(node);
  std::string why;
  connection = connect(node, why);
  if (!connection) {
    failed(why);
    return nullptr;
  }
  Reply reply = evaluate(*connection, words);
  if (!reply) failed(connection_error(*connection));
  return reply;
}

// EVALSHA, and when Redis does not know the script (restarted, a new
// master, or SCRIPT FLUSH), SCRIPT LOAD and EVALSHA again.
Reply RedisClient::evaluate(Connection& connection, Words words) {
  Reply reply = send(connection, words);
  if (is_error(reply) && text_of(reply).starts_with("NOSCRIPT")) {
    if (!load_script(connection)) return nullptr;
    reply = send(connection, words);
  }
  return reply;
}

std::unique_ptr<RedisClient::Connection> RedisClient::take(bool& reused) {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      reused = true;
      return connection;
    }
  }
  reused = false;
  return connect_somewhere();
}

// The target, or when it cannot be reached, the first listed node that can
// (which becomes the target: it redirects to the slot's master if it is not).
std::unique_ptr<RedisClient::Connection> RedisClient::connect_somewhere() {
  config::RedisNode first = target();
  std::string why;
  if (auto connection = connect(first, why)) return connection;
  for (const auto& node : nodes_) {
    if (node == first) continue;
    std::string other;
    if (auto connection = connect(node, other)) {
      retarget(node);
      return connection;
    }
  }
  failed(why);
  return nullptr;
}

void RedisClient::give_back(std::unique_ptr<Connection> connection) {
  std::lock_guard lock(mutex_);
  if (connection->node == target_ && idle_.size() < most_idle) idle_.push_back(std::move(connection));
}

std::unique_ptr<RedisClient::Connection> RedisClient::connect(const config::RedisNode& node,
                                                              std::string& why) {
  auto connection = std::make_unique<Connection>();
  connection->node = node;
  connection->context = redisConnectWithTimeout(node.host.c_str(), node.port, as_timeval(settings_.timeout));
  if (connection->context == nullptr || connection->context->err != 0) {
    why = "cannot connect to " + describe(node) + ": " +
          (connection->context != nullptr ? connection->context->errstr : "no memory");
    return nullptr;
  }
  redisSetTimeout(connection->context, as_timeval(settings_.timeout));
  redisEnableKeepAlive(connection->context);
  std::vector<std::vector<std::string_view>> setup;
  if (!settings_.password.empty()) {
    if (settings_.username.empty())
      setup.push_back({"AUTH", settings_.password});
    else
      setup.push_back({"AUTH", settings_.username, settings_.password});
  }
  std::string database = std::to_string(settings_.database);
  if (settings_.database != 0) setup.push_back({"SELECT", database});
  for (const auto& words : setup) {
    Reply reply = send(*connection, words);
    if (!reply || is_error(reply)) {
      why = std::string(words.front()) + ": " +
            (reply ? std::string(text_of(reply)) : connection_error(*connection));
      return nullptr;
    }
  }
  return connection;
}

bool RedisClient::load_script(Connection& connection) {
  std::vector<std::string_view> words{"SCRIPT", "LOAD", script_};
  Reply reply = send(connection, words);
  if (!reply) return false;
  if (reply->type == REDIS_REPLY_STRING && text_of(reply) == sha_) return true;
  log::get("store").error("{}: SCRIPT LOAD: {}", name_,
                          is_error(reply) ? text_of(reply) : std::string_view("an unexpected answer"));
  return false;
}

Reply RedisClient::send(Connection& connection, Words words) {
  ++slow_waits;
  std::vector<const char*> pieces;
  std::vector<std::size_t> sizes;
  for (auto word : words) {
    pieces.push_back(word.data());
    sizes.push_back(word.size());
  }
  return Reply(static_cast<redisReply*>(
      redisCommandArgv(connection.context, static_cast<int>(words.size()), pieces.data(), sizes.data())));
}

std::string RedisClient::connection_error(const Connection& connection) {
  return describe(connection.node) + ": " +
         (connection.context->errstr[0] != '\0' ? connection.context->errstr : "no answer");
}

// WAIT: the write is answered only once as many replicas as asked have it.
bool RedisClient::confirmed_by_replicas(Connection& connection) {
  if (settings_.wait_replicas == 0) return true;
  std::string replicas = std::to_string(settings_.wait_replicas);
  std::string timeout = std::to_string(settings_.wait_timeout.count());
  std::vector<std::string_view> words{"WAIT", replicas, timeout};
  Reply reply = send(connection, words);
  if (!reply) {
    failed("WAIT: " + connection_error(connection));
    return false;
  }
  if (reply->type == REDIS_REPLY_INTEGER && reply->integer >= settings_.wait_replicas) return true;
  std::string got = reply->type == REDIS_REPLY_INTEGER ? std::to_string(reply->integer) : "none";
  failed("WAIT: " + got + " of " + replicas + " replicas confirmed the write within " + timeout +
         " ms (store.wait_replicas)");
  return false;
}

// Connections to the old target are closed as they come back (give_back).
void RedisClient::retarget(const config::RedisNode& node) {
  std::lock_guard lock(mutex_);
  if (node == target_) return;
  target_ = node;
  idle_.clear();
}

config::RedisNode RedisClient::target() {
  std::lock_guard lock(mutex_);
  return target_;
}

void RedisClient::failed(const std::string& why) {
  mark_unreachable(name_ + ": " + why);
  {
    std::lock_guard lock(mutex_);
    idle_.clear();  // connected to the Redis that failed: most likely dead too
  }
  if (!down_.exchange(true))
    log::get("store").error("{}: {}; requests that need the store are answered 503 until it answers again",
                            name_, why);
}

void RedisClient::succeeded() {
  if (down_.load(std::memory_order_relaxed) && down_.exchange(false))
    log::get("store").info("{}: answering again", name_);
}

}  // namespace verbd::store
