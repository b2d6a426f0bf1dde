// One call of a plugin, as the dispatcher makes it: on the event loop (a
// plugin that never blocks) or on a pool thread (PooledCall below), held to
// the same rules either way:
//
//   - WebDAV's preconditions come first (dispatch/conditions.hpp): the
//     Destination field, the If field and locks;
//   - the C request (<verbd/plugin.h>) is built over the host's request;
//   - the board notes the call, so that a crash in it names the plugin;
//   - what comes back is checked: 500 when the plugin failed or broke the
//     contract, with a log line naming it; an error page for an empty error;
//   - a GET answered with a resource gets the part its Range asks for;
//   - a plugin in a process of its own (dispatch/isolated.hpp) gets the
//     request there instead: 502 when that process dies on it;
//   - a body the plugin sends as it makes it (response_send) goes through
//     a Streamer: on a pool thread, PooledCall hands its head and pieces to
//     the connection while the plugin runs on. A failure after the head
//     has gone cuts the body short instead of answering 500.
#pragma once

#include "board/board.hpp"
#include "dispatch/plugin_pool.hpp"
#include "dispatch/services.hpp"
#include "http/request.hpp"
#include "http/responder.hpp"
#include "http/response.hpp"
#include "http/target.hpp"
#include "plugin/generation.hpp"
#include "store/store.hpp"

#include <verbd/plugin.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace verbd::dispatch {

// What a call needs besides the request, kept from call to call so that
// answering allocates nothing.
struct CallScratch {
  http::Target target;  // the cleaned target: the dispatcher has checked that it cleans
  std::vector<verbd_header> headers;
  Content content;          // the body, as verbd_request.content points at it
  std::string destination;  // the Destination field's clean path, for verbd_request.destination
};

// Everything the call is about.
struct CallSubject {
  const plugin::Plugin& plugin;
  std::uint64_t generation;
  std::string_view allow;  // the Allow value the plugin sees as the request's
  // Made by a worker, not in the process of an isolated plugin: the worker
  // alone checks the If field and locks (dispatch/conditions.hpp) before the
  // call, and serves the part a Range asks for (http/range.hpp) after it.
  bool in_worker = true;
};

// Calls `subject.plugin` (loaded here, or in a process of its own) with
// `request`, and fills `response` by the rules above. `cancelled`: see
// PluginProcess::exchange(). Without a `streamer`, response_send is refused.
void call_plugin(const CallSubject& subject, const http::Request& request, store::Store& store,
                 board::CallRecord& record, CallScratch& scratch, http::Response& response,
                 const std::atomic<bool>* cancelled = nullptr, Streamer* streamer = nullptr);

// A call handed to the pool: it owns a copy of the request (and takes its
// body), the response it builds, and the generation that keeps its plugin
// loaded, so that nothing it touches goes away while it runs, however long.
// The connection waits for it as an http::Pending: for the whole response,
// or for its head only, when the plugin sends its body as it makes it.
class PooledCall final : public PoolTask, public http::Pending, public Streamer {
 public:
  PooledCall(const plugin::Plugin& plugin, std::shared_ptr<const plugin::Generation> generation,
             http::Request& request, store::Store& store, std::chrono::milliseconds timeout);

  void run(board::CallRecord& record) noexcept override;
  bool time_out(bool started) noexcept override;
  void abandon() noexcept override;
  Clock::time_point last_progress() const noexcept override;
  std::size_t kind() const noexcept override;

  bool begin(http::Response& head) override;
  bool send(std::string_view piece) override;
  void end(bool complete) noexcept override;
  bool began() const noexcept override;

  void when_ready(std::function<void()> ready) override;
  void take(http::Response& response) override;

 private:
  enum class Stage { waiting, answered, abandoned };
  void answer();
  void log_time_out(bool started) const noexcept;
  bool time_out_streaming(bool remote) noexcept;

  const plugin::Plugin& plugin_;
  std::shared_ptr<const plugin::Generation> generation_;
  http::Request request_;
  store::Store& store_;
  std::chrono::milliseconds timeout_;
  CallScratch scratch_;
  http::Response result_;   // what the plugin builds
  http::Response refusal_;  // the 503 of a call past its time limit
  std::atomic<bool> timed_out_{false};

  mutable std::mutex mutex_;  // guards what follows
  Stage stage_ = Stage::waiting;
  std::function<void()> ready_;
  std::shared_ptr<http::BodyStream> stream_;  // once the head has gone
};

}  // namespace verbd::dispatch
