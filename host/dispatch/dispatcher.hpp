// The exchange between a parsed request and a plugin: verbd's Responder.
//
// For each request it cleans the target (400 when it cannot be), finds the
// plugin for the method in the current generation (405 + Allow when none
// serves it), and calls it (dispatch/plugin_call.hpp), which holds what
// comes back to the rules. A plugin the supervisor has quarantined is not
// called at all: its methods answer 503.
//
// Where the call runs: a plugin that declared it never blocks, on the event
// loop; any other, on the loop's pool of threads (dispatch/plugin_pool.hpp),
// so that a slow one holds up its own request only. A full pool answers 503
// with Retry-After at once; a call past the time limit answers 503.
//
// One per event loop: no sockets here, and no lock on the way of a request
// answered on the loop.
#pragma once

#include "board/board.hpp"
#include "dispatch/plugin_call.hpp"
#include "dispatch/plugin_pool.hpp"
#include "http/request.hpp"
#include "http/responder.hpp"
#include "http/response.hpp"
#include "http/target.hpp"
#include "plugin/generation.hpp"
#include "store/store.hpp"

#include <verbd/plugin.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace verbd::dispatch {

// How a worker's dispatchers run plugins that may block.
struct PoolOptions {
  PoolSettings settings;
  // Called once when a pool has as many threads written off as it may run:
  // the worker process should be recycled (main/worker.cpp).
  std::function<void()> on_stuck;
};

class Dispatcher final : public http::Responder {
 public:
  // `record`: this event loop's on the board. Without a pool, every plugin
  // is called on the caller's thread (the process of an isolated plugin).
  Dispatcher(store::Store& store, const plugin::Registry& plugins, board::Board& board,
             board::CallRecord& record, std::unique_ptr<PluginPool> pool = nullptr);

  // No plugin, a quarantined one, a body it cannot take, or (where the
  // store answers at once) a Destination or If field or a WebDAV lock that
  // refuses it.
  bool refuses_before_body(const http::Request& head, http::Response& response) override;
  // Calls every plugin here, on the caller's thread.
  void answer(const http::Request& request, http::Response& response) override;
  // Hands the calls of plugins that may block to the pool.
  std::shared_ptr<http::Pending> answer_or_defer(http::Request& request, http::Response& response) override;
  void abandon_pending() noexcept override;
  void release() noexcept override;
  // Where the store can adopt it: a PUT of a spooled body is then a rename.
  Fd open_spool() override { return store_.open_spool(); }

  // In the process of an isolated plugin, which knows that one plugin only:
  // the Allow value of the worker the request came from, for the plugin to
  // see as the request's.
  void use_allow_from_worker(std::string_view allow) { allow_from_worker_.assign(allow); }
  // There too: where a body the plugin sends as it makes it goes.
  void stream_through(Streamer* streamer) noexcept { streamer_ = streamer; }

 private:
  bool holds_old_generation() const noexcept;
  const plugin::Generation& generation();
  const plugin::Plugin* choose(const http::Request& request, http::Response& response);
  bool is_quarantined(const plugin::Plugin& plugin) const noexcept;
  void refuse_quarantined(const plugin::Plugin& plugin, http::Response& response) const;
  void refuse_large_body(const plugin::Plugin& plugin, http::Response& response) const;
  void call_here(const plugin::Plugin& plugin, const http::Request& request, http::Response& response);
  std::shared_ptr<http::Pending> defer(const plugin::Plugin& plugin, http::Request& request,
                                       http::Response& response);
  void refuse_busy(http::Response& response);

  store::Store& store_;
  const plugin::Registry& plugins_;
  board::Board& board_;
  board::CallRecord& record_;
  std::unique_ptr<PluginPool> pool_;
  std::shared_ptr<const plugin::Generation> generation_;
  CallScratch scratch_;  // kept from request to request, so that answering allocates nothing
  std::string allow_from_worker_;
  Streamer* streamer_ = nullptr;
  std::chrono::steady_clock::time_point last_busy_warning_{};
};

// A ResponderFactory for verbd's event loops: the n-th Dispatcher it makes
// uses the board's CallRecords of loop `first_loop + n`, and a pool of its own.
http::ResponderFactory dispatchers(store::Store& store, const plugin::Registry& plugins, board::Board& board,
                                   std::size_t first_loop, PoolOptions pool);

}  // namespace verbd::dispatch
