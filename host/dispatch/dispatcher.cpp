#include "dispatch/dispatcher.hpp"

#include "common/metrics.hpp"
#include "dispatch/conditions.hpp"
#include "log/log.hpp"
#include "plugin/let_go.hpp"

#include <utility>

namespace verbd::dispatch {

Dispatcher::Dispatcher(store::Store& store, const plugin::Registry& plugins, board::Board& board,
                       board::CallRecord& record, std::unique_ptr<PluginPool> pool)
    : store_(store),
      plugins_(plugins),
      board_(board),
      record_(record),
      pool_(std::move(pool)),
      generation_(plugins.current()) {}

// A newer generation was published since the one held here was fetched.
bool Dispatcher::holds_old_generation() const noexcept {
  return generation_ && generation_->number() != plugins_.number();
}

// The generation is fetched again only when a new one was published, so
// that requests share no lock; the one held here keeps its plugins loaded.
const plugin::Generation& Dispatcher::generation() {
  if (!generation_ || holds_old_generation()) plugin::let_go(std::exchange(generation_, plugins_.current()));
  return *generation_;
}

// The old generation's teardown, if this was its last holder, runs off this
// thread, often an event loop (plugin/let_go.hpp).
void Dispatcher::release() noexcept {
  if (holds_old_generation()) plugin::let_go(std::exchange(generation_, nullptr));
}

// Refused whatever the body: what choose() refuses (no plugin, a
// quarantined one, a body announced too large for memory for a plugin that
// reads only bodies in memory), and what the checks before a call refuse
// (the Destination and If fields, the WebDAV locks). Those wait for the
// call where the store's reads may wait: never on an event loop.
bool Dispatcher::refuses_before_body(const http::Request& head, http::Response& response) {
  if (choose(head, response) == nullptr) return true;
  if (store_.reads_may_wait()) return false;
  bool in_worker = allow_from_worker_.empty();
  return !checks_pass(head, scratch_.target.path, scratch_.destination, in_worker, store_, response);
}

// The plugin for the request, or null when it is answered already: a
// target that does not clean (400), no plugin (405), a quarantined one (503).
const plugin::Plugin* Dispatcher::choose(const http::Request& request, http::Response& response) {
  response.reset(request.method == "HEAD");
  auto error = http::clean_target(request.target, request.method, scratch_.target);
  if (error != http::TargetError::none) {
    response.refuse(400, http::describe(error));
    return nullptr;
  }
  const plugin::Generation& plugins = generation();
  const plugin::Plugin* plugin = plugins.find(request.method);
  if (plugin == nullptr) {
    response.refuse(405, "no plugin serves this method");
    response.add_field("Allow", plugins.allow());
    return nullptr;
  }
  if (is_quarantined(*plugin)) {
    refuse_quarantined(*plugin, response);
    return nullptr;
  }
  if ((request.body_spooled() || request.announces_spooled_body) && !plugin->reads_large_bodies()) {
    refuse_large_body(*plugin, response);
    return nullptr;
  }
  return plugin;
}

// A plugin built before ABI 1.2 would take the empty verbd_request.body of
// a spooled body for the whole of it.
void Dispatcher::refuse_large_body(const plugin::Plugin& plugin, http::Response& response) const {
  response.refuse(413, "the plugin serving this method, " + plugin.file().filename().string() + " (" +
                           plugin.name() + " " + plugin.version() + ", ABI " + plugin.abi() +
                           "), takes bodies up to limits.body_in_memory_bytes only: rebuild it against "
                           "SDK 1.2 or later to take larger ones");
}

void Dispatcher::answer(const http::Request& request, http::Response& response) {
  if (const plugin::Plugin* plugin = choose(request, response)) call_here(*plugin, request, response);
}

std::shared_ptr<http::Pending> Dispatcher::answer_or_defer(http::Request& request, http::Response& response) {
  const plugin::Plugin* plugin = choose(request, response);
  if (plugin == nullptr) return nullptr;
  bool on_this_loop = plugin->never_blocks() && plugin->remote() == nullptr && !store_.reads_may_wait();
  if (pool_ == nullptr || on_this_loop) {
    call_here(*plugin, request, response);
    return nullptr;
  }
  return defer(*plugin, request, response);
}

void Dispatcher::call_here(const plugin::Plugin& plugin, const http::Request& request,
                           http::Response& response) {
  std::string_view allow =
      allow_from_worker_.empty() ? std::string_view(generation_->allow()) : allow_from_worker_;
  bool in_worker = allow_from_worker_.empty();
  call_plugin({plugin, generation_->number(), allow, in_worker}, request, store_, record_, scratch_, response,
              nullptr, streamer_);
}

std::shared_ptr<http::Pending> Dispatcher::defer(const plugin::Plugin& plugin, http::Request& request,
                                                 http::Response& response) {
  auto call = std::make_shared<PooledCall>(plugin, generation_, request, store_, pool_->settings().timeout);
  if (pool_->submit(call)) return call;
  refuse_busy(response);
  return nullptr;
}

// Every thread busy and the queue full: 503 at once, and a warning now and then.
void Dispatcher::refuse_busy(http::Response& response) {
  static auto& log = verbd::log::get("plugins");
  const auto& settings = pool_->settings();
  metrics::add_shared(metrics::events().plugin_queue_full);
  response.refuse(503, "every plugin thread of this worker is busy and " + std::to_string(settings.queue) +
                           " calls wait already: try again shortly");
  response.add_field("Retry-After", "1");
  auto now = std::chrono::steady_clock::now();
  if (now - last_busy_warning_ < std::chrono::seconds(10)) return;
  last_busy_warning_ = now;
  log.warn(
      "all {} plugin threads busy and {} calls queued: answering 503 (server.plugin_threads, "
      "limits.plugin_queue)",
      settings.threads, settings.queue);
}

void Dispatcher::abandon_pending() noexcept {
  if (pool_) pool_->abandon_all();
}

bool Dispatcher::is_quarantined(const plugin::Plugin& plugin) const noexcept {
  return board_.quarantine().contains(plugin.identity());
}

void Dispatcher::refuse_quarantined(const plugin::Plugin& plugin, http::Response& response) const {
  response.refuse(503, "the plugin serving this method, " + plugin.file().filename().string() + " (" +
                           plugin.name() + " " + plugin.version() +
                           "), is quarantined: it crashed verbd's workers too often. It is lifted when "
                           "the plugin's file is replaced or verbd gets SIGHUP.");
  response.add_field("Retry-After", std::to_string(board_.quarantine_retry_after_s().load()));
}

http::ResponderFactory dispatchers(store::Store& store, const plugin::Registry& plugins, board::Board& board,
                                   std::size_t first_loop, PoolOptions pool) {
  return [&store, &plugins, &board, loop = first_loop, pool]() mutable {
    auto threads = std::make_unique<PluginPool>(pool.settings, board.pool_calls(loop), pool.on_stuck);
    auto& record = board.call(loop++);
    return std::make_unique<Dispatcher>(store, plugins, board, record, std::move(threads));
  };
}

}  // namespace verbd::dispatch
