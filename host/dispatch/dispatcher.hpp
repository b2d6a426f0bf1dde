// The exchange between a parsed request and a plugin: verbd's Responder.
//
// For each request it cleans the target (400 when it cannot be), finds the
// plugin for the method in the current generation (405 + Allow when none
// serves it), builds the C request, calls the plugin with a Draft of the
// response (dispatch/services.hpp), and holds what comes back to the rules:
// 500 when the plugin failed or broke the contract, with a log line naming
// it; an error page for an empty error response.
//
// Around each call it notes on the board (board/board.hpp) which plugin is
// running and on what, so that the supervisor can name the plugin if the
// worker dies in it; and a plugin the supervisor has quarantined is not
// called at all: its methods answer 503. A plugin that runs in a process of
// its own (dispatch/isolated.hpp) gets the request there instead.
//
// One per event loop: no sockets here, and no lock on the way of a request.
#pragma once

#include "board/board.hpp"
#include "http/request.hpp"
#include "http/responder.hpp"
#include "http/response.hpp"
#include "http/target.hpp"
#include "plugin/generation.hpp"
#include "store/store.hpp"

#include <verbd/plugin.h>

#include <memory>
#include <vector>

namespace verbd::dispatch {

class Dispatcher final : public http::Responder {
 public:
  // `record`: this event loop's on the board.
  Dispatcher(store::Store& store, const plugin::Registry& plugins, board::Board& board,
             board::CallRecord& record);

  bool accepts(const http::Request& head) override;
  void answer(const http::Request& request, http::Response& response) override;
  void release() noexcept override;

  // In the process of an isolated plugin, which knows that one plugin only:
  // the Allow value of the worker the request came from, for the plugin to
  // see as the request's.
  void use_allow_from_worker(std::string_view allow) { allow_from_worker_.assign(allow); }

 private:
  bool holds_old_generation() const noexcept;
  const plugin::Generation& generation();
  bool is_quarantined(const plugin::Plugin& plugin) const noexcept;
  void refuse_quarantined(const plugin::Plugin& plugin, http::Response& response) const;
  void note_call(const plugin::Plugin& plugin, const http::Request& request) noexcept;
  void call(const plugin::Plugin& plugin, const http::Request& request, http::Response& response);
  void forward(const plugin::Plugin& plugin, const http::Request& request, http::Response& response);
  verbd_request c_request(const http::Request& request);

  store::Store& store_;
  const plugin::Registry& plugins_;
  board::Board& board_;
  board::CallRecord& record_;
  const plugin::Plugin* recorded_plugin_ = nullptr;  // whose description record_ holds
  std::uint64_t recorded_generation_ = 0;
  std::shared_ptr<const plugin::Generation> generation_;
  // Kept from request to request, so that answering allocates nothing.
  http::Target target_;
  std::vector<verbd_header> headers_;
  std::string allow_from_worker_;
};

// A ResponderFactory for verbd's event loops: the n-th Dispatcher it makes
// uses the board's CallRecord of loop `first_loop + n`.
http::ResponderFactory dispatchers(store::Store& store, const plugin::Registry& plugins, board::Board& board,
                                   std::size_t first_loop);

}  // namespace verbd::dispatch
