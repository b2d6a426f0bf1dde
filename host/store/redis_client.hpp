// Connections to Redis, shared by every thread of a process, through
// hiredis (blocking calls: the store's callers are pool threads).
//
// A call takes an idle connection, or opens one, and gives it back after
// its command. A connection that failed (Redis gone, a timeout) is dropped
// instead, so the next call connects again: verbd reconnects by itself
// when Redis is back. The first failure after a success is logged once,
// and so is the return.
//
// With a Redis Cluster, every key of the store is in one hash slot (its
// keys share the tag "{PREFIX}"), so there is one node to talk to: the
// master of that slot. The client starts at a node of the configured list
// and follows MOVED (the slot is served elsewhere: that node is the target
// from then on). While the slot migrates (ASK), calls fail, as in an
// outage (redis_client.cpp says why). When the target cannot be reached
// (its master died), the client tries the listed nodes in turn; once the
// cluster has promoted a replica, they redirect it to the new master.
#pragma once

#include "config/config.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct redisContext;
struct redisReply;

namespace verbd::store {

struct ReplyFree {
  void operator()(redisReply* reply) const noexcept;
};
// Null when Redis could not be reached or did not answer in time.
using Reply = std::unique_ptr<redisReply, ReplyFree>;

// Where the settings point, for people: "HOST:PORT/DB", or "cluster
// HOST:PORT and N more" (its first listed node).
std::string redis_location(const config::Redis& settings);

// The text of a string, status or error reply; empty for any other kind.
std::string_view text_of(const redisReply* reply) noexcept;
inline std::string_view text_of(const Reply& reply) noexcept { return text_of(reply.get()); }
bool is_error(const Reply& reply) noexcept;

class RedisClient {
 public:
  // `script` is the Lua text run by run_script(), loaded into Redis when
  // Redis does not have it yet.
  RedisClient(const config::Redis& settings, std::string script);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  enum class Effect { reads, writes };
  // Runs the script with these arguments (after its one key). A call that
  // `writes` then WAITs for the replicas the config asks for; one that
  // `reads` is tried again on a new connection when an idle one turns out
  // dead (Redis restarted since it was used). Null, and the thread's
  // request marked as unreachable (store.hpp), when Redis could not be
  // reached, did not answer, or too few replicas confirmed; an error reply
  // (logged) when Redis refused the call.
  Reply run_script(std::string_view key, std::span<const std::string_view> arguments, Effect effect);

  // "redis 127.0.0.1:6379/0", or "redis cluster 127.0.0.1:7000,...", for messages.
  const std::string& name() const noexcept { return name_; }

 private:
  struct Connection;
  using Words = std::span<const std::string_view>;
  Reply run_once(Words words, Effect effect, std::unique_ptr<Connection>& connection);
  Reply follow_moved(Words words, const Reply& moved, std::unique_ptr<Connection>& connection);
  std::unique_ptr<Connection> take(bool& reused);
  std::unique_ptr<Connection> connect_somewhere();
  void give_back(std::unique_ptr<Connection> connection);
  // Null, and `why`, when it cannot.
  std::unique_ptr<Connection> connect(const config::RedisNode& node, std::string& why);
  bool load_script(Connection& connection);
  Reply evaluate(Connection& connection, Words words);
  // Null when the connection failed (connection_error() says how).
  static Reply send(Connection& connection, Words words);
  static std::string connection_error(const Connection& connection);
  bool confirmed_by_replicas(Connection& connection);
  void retarget(const config::RedisNode& node);
  config::RedisNode target();
  void failed(const std::string& why);
  void succeeded();

  config::Redis settings_;
  std::vector<config::RedisNode> nodes_;  // the url's node, or the cluster's listed ones
  std::string script_;
  std::string sha_;  // of script_: the name EVALSHA knows it by
  std::string name_;
  std::mutex mutex_;
  config::RedisNode target_;  // where commands go: for a cluster, the master of the slot as last learnt
  std::vector<std::unique_ptr<Connection>> idle_;  // to target_
  std::atomic<bool> down_{false};
};

}  // namespace verbd::store
