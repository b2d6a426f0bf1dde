// The host's services for plugins: the functions of the C table
// `verbd_host` (<verbd/plugin.h>). The loader gives each plugin a copy whose
// context is the plugin's own (plugin::Context); the response functions
// reach the request being answered through `verbd_response*`, a Draft.
//
// Every function checks what the plugin hands it (sizes, null pointers,
// modes) and answers VERBD_BAD_ARGUMENT rather than trust it, and none lets
// an exception out: the caller is plugin code.
#pragma once

#include "http/response.hpp"
#include "store/store.hpp"

#include <verbd/plugin.h>

#include <string>

namespace verbd::dispatch {

// What the `verbd_response*` handed to a plugin points at: the response it
// builds, and what the response functions need beside it.
struct Draft {
  http::Response& response;
  store::Store& store;
  bool broken = false;  // the plugin broke the contract: the host answers 500
  std::string problem;  // how, for the log

  verbd_response* handle() noexcept { return reinterpret_cast<verbd_response*>(this); }
  static Draft& of(verbd_response* response) noexcept { return *reinterpret_cast<Draft*>(response); }
};

// The table, with every function set and no context.
verbd_host services_table() noexcept;

}  // namespace verbd::dispatch
