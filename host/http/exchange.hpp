// One request in, one response out: the host's part of answering, between
// the parser and the wire. Picks the plugin for the method (405 + Allow when
// there is none), cleans the target (400 when it cannot be), calls the
// plugin, and checks what it returns (500 when it broke the contract).
//
// No sockets here, so that tests can drive it directly. One per connection.
#pragma once

#include "http/request.hpp"
#include "http/response.hpp"
#include "http/target.hpp"
#include "plugin/generation.hpp"
#include "store/store.hpp"

#include <memory>

namespace verbd::http {

class Exchange {
 public:
  Exchange(store::Store& store, const plugin::Registry& plugins);

  void answer(const Request& request, Response& response);
  // For Expect: 100-continue — would answer() refuse this method outright?
  bool serves(std::string_view method);
  // Lets go of the generation held if a newer one was published, so that
  // an exchange left unused does not keep old plugins loaded.
  void let_go_of_old_generation() noexcept;

 private:
  const plugin::Generation& generation();
  void call_plugin(const plugin::Plugin& plugin, const Request& request, Response& response);

  store::Store& store_;
  const plugin::Registry& plugins_;
  std::shared_ptr<const plugin::Generation> generation_;
  Target target_;
};

}  // namespace verbd::http
