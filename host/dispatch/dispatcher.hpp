// The exchange between a parsed request and a plugin: verbd's Responder.
//
// For each request it cleans the target (400 when it cannot be), finds the
// plugin for the method in the current generation (405 + Allow when none
// serves it), builds the C request, calls the plugin with a Draft of the
// response (dispatch/services.hpp), and holds what comes back to the rules:
// 500 when the plugin failed or broke the contract, with a log line naming
// it; an error page for an empty error response.
//
// One per worker: no sockets here, and no lock on the way of a request.
#pragma once

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
  Dispatcher(store::Store& store, const plugin::Registry& plugins);

  bool accepts(const http::Request& head) override;
  void answer(const http::Request& request, http::Response& response) override;
  void release() noexcept override;

 private:
  bool holds_old_generation() const noexcept;
  const plugin::Generation& generation();
  void call(const plugin::Plugin& plugin, const http::Request& request, http::Response& response);
  verbd_request c_request(const http::Request& request);

  store::Store& store_;
  const plugin::Registry& plugins_;
  std::shared_ptr<const plugin::Generation> generation_;
  // Kept from request to request, so that answering allocates nothing.
  http::Target target_;
  std::vector<verbd_header> headers_;
};

// A ResponderFactory for verbd's workers.
http::ResponderFactory dispatchers(store::Store& store, const plugin::Registry& plugins);

}  // namespace verbd::dispatch
