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

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace verbd::dispatch {

// What the `const verbd_content*` handed to a plugin points at: the
// request's body, in memory or in its spool file (then `in_memory` is
// empty). The file is mutable so that a write can note that the store
// adopted it.
struct Content {
  std::string_view in_memory;
  mutable store::BodyFile file;  // fd -1: the body is in memory

  bool in_file() const noexcept { return file.fd >= 0; }
  const verbd_content* handle() const noexcept { return reinterpret_cast<const verbd_content*>(this); }
  static const Content& of(const verbd_content* content) noexcept {
    return *reinterpret_cast<const Content*>(content);
  }
};

// Where the pieces of a body go that a plugin sends as it makes it
// (response_send): the call that runs the plugin on a pool thread, which
// hands them to the connection (dispatch/plugin_call.hpp), or the process of
// an isolated plugin, which hands them to its worker (dispatch/isolated.hpp).
class Streamer {
 public:
  virtual ~Streamer() = default;
  // The head (`head`: status and fields, no body) goes now. False when it
  // cannot: the call was answered already (past its time limit).
  virtual bool begin(http::Response& head) = 0;
  // The next piece; waits while the client is slower. False when nobody
  // takes more.
  virtual bool send(std::string_view piece) = 0;
  // handle() has returned: the body is complete, or it is to be cut short.
  virtual void end(bool complete) noexcept = 0;
  // Whether begin() succeeded: the response is no longer the caller's.
  virtual bool began() const noexcept = 0;
};

// What the `verbd_response*` handed to a plugin points at: the response it
// builds, and what the response functions need beside it.
struct Draft {
  http::Response& response;
  store::Store& store;
  bool broken = false;  // the plugin broke the contract: the host answers 500
  std::string problem;  // how, for the log
  // Where response_send goes; none for a plugin called on the event loop,
  // which may not wait for a client.
  Streamer* streamer = nullptr;
  enum class Sending { not_yet, streaming, dropping };
  Sending sending = Sending::not_yet;  // dropping: HEAD, 204, 304
  bool never_blocks = false;           // the plugin declared VERBD_PLUGIN_NEVER_BLOCKS
  std::string_view plugin_name{};      // for the log

  verbd_response* handle() noexcept { return reinterpret_cast<verbd_response*>(this); }
  static Draft& of(verbd_response* response) noexcept { return *reinterpret_cast<Draft*>(response); }
};

// The lock tokens of the request a plugin answers on this thread, for the
// store services while it lives (around one plugin call): a change that
// runs into a lock whose token is not among them is refused with
// VERBD_LOCKED (store::LockTable::admit), and the scope keeps the lock so
// that the host answers 423 naming it. A thread with no scope (one a plugin
// started) submits no tokens.
class LockScope {
 public:
  explicit LockScope(std::vector<std::string> tokens) noexcept;
  ~LockScope();
  LockScope(const LockScope&) = delete;
  LockScope& operator=(const LockScope&) = delete;

  std::span<const std::string> tokens() const noexcept { return tokens_; }
  void note(store::Lock met) noexcept { met_ = std::move(met); }
  // The lock a change of this call ran into, if one did.
  const std::optional<store::Lock>& met() const noexcept { return met_; }

 private:
  std::vector<std::string> tokens_;
  std::optional<store::Lock> met_;
  LockScope* outer_;
};

// The table, with every function set and no context.
verbd_host services_table() noexcept;

}  // namespace verbd::dispatch
