// A plugin in a process of its own: `isolation = "process"` in the
// [plugins.<method>] table named by its file (get.so: [plugins.get]).
//
// The worker's side is a PluginProcess. It starts `verbd --serve-plugin
// FILE ...` with one end of a socket pair as descriptor 3, reads how the
// plugin describes itself, then hands that process each request for the
// plugin, whole, and reads back the response, whole; a body in a file (a
// spooled request body, a resource left in its file) goes across as the
// open file. A body the plugin sends as it makes it (response_send) comes
// back in pieces, which the worker hands on as they come. The plugin's process answers with a
// Dispatcher of its own over a store of its own, so the plugin is held to
// the same rules as in a worker.
//
// When that process dies in the middle of a request, only that request
// fails: the worker's Dispatcher answers 502 and the connection stays open;
// the process starts again for the next request. Found dead before a
// request reached it, it starts again for that request. It is never
// quarantined: its crashes cost nothing but their own requests.
//
// The pool threads of one worker process take turns on the socket; a call
// past its time limit has the process killed (interrupt()).
#pragma once

#include "common/fd.hpp"
#include "dispatch/services.hpp"
#include "http/request.hpp"
#include "http/response.hpp"
#include "plugin/plugin.hpp"

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace verbd::dispatch {

// How to start the process of an isolated plugin.
struct IsolatedCommand {
  std::string binary;                  // verbd's own
  std::vector<std::string> arguments;  // after "--serve-plugin FILE": the config and its overrides
  std::filesystem::path store_root;    // the files store's, to clear a dead process's scratch files
  // How long a new process has to describe its plugin (limits.handler_timeout_ms):
  // loading it, and its factory, are plugin code like a call.
  std::chrono::milliseconds start_timeout{30000};
};

class PluginProcess final : public plugin::Remote {
 public:
  // Starts the process; null with `refusal` set when the plugin cannot be loaded there.
  static std::unique_ptr<PluginProcess> start(const std::filesystem::path& file,
                                              const IsolatedCommand& command,
                                              plugin::Description& description, std::string& refusal);
  // Tells the process to end, and leaves the waiting to a thread of its own
  // (the process's end is logged unless it exited with status 0).
  ~PluginProcess() override;

  // Sends `signal` to the running process of every PluginProcess of this
  // worker: the worker passes SIGUSR1 on, so that they reopen their logs.
  static void signal_all(int signal) noexcept;

  // How the process ended, each saying so ("(pid 12) killed by SIGKILL"),
  // or empty.
  struct Ended {
    // Before the request reached it (between requests: killed by hand, out
    // of memory): it was started again and the request handed to the new one.
    std::string before_request;
    // While it had the request, or it could not be started again.
    std::string on_request;
  };

  // Hands the request to the plugin's process and takes its response.
  // False when the process died on it, or could not be started again
  // (`ended.on_request` says how; the response is then untouched).
  // `allow`: the worker's Allow value, which the plugin sees as the request's.
  // Calls wait their turn; one whose `cancelled` is set meanwhile is not
  // made at all (true, the response untouched).
  // A body sent in pieces goes through `streamer` (none: it is dropped).
  bool exchange(const http::Request& request, std::string_view allow, http::Response& response, Ended& ended,
                const std::atomic<bool>* cancelled = nullptr, Streamer* streamer = nullptr);
  // From another thread, for a call past its time limit: kills the process
  // if it is handling the exchange() given this `cancelled`, which then
  // returns false at once. The next call starts a new process.
  void interrupt(const std::atomic<bool>* cancelled);

 private:
  PluginProcess(std::filesystem::path file, IsolatedCommand command);
  bool spawn(plugin::Description& description, std::string& problem);
  static bool fail(std::string why, std::string& problem);
  std::string shut_down();
  std::string bury();
  bool deliver(const http::Request& request, std::string_view allow, Ended& ended,
               const std::atomic<bool>* cancelled);
  void set_busy(const std::atomic<bool>* cancelled, pid_t pid);
  bool receive_answer(http::Response& response, Streamer* streamer);
  bool relay_body(http::Response& head, Streamer* streamer);

  std::mutex mutex_;  // one exchange at a time
  std::mutex busy_mutex_;
  const std::atomic<bool>* busy_with_ = nullptr;  // the exchange in progress, and its process
  pid_t busy_pid_ = -1;
  std::filesystem::path file_;
  IsolatedCommand command_;
  Fd socket_;
  pid_t pid_ = -1;
};

// The plugin process's side of the socket.
namespace isolated {

// The first message: the plugin's description, or why it could not be loaded.
bool send_description(int socket, const plugin::Plugin& plugin);
bool send_refusal(int socket, const std::string& reason);
// The next request, and the worker's Allow value; false when the worker
// has closed the socket.
bool receive_request(int socket, http::Request& request, std::string& allow);
// The response, with the file its body is left in, if any.
bool send_response(int socket, http::Response& response);

// A body the plugin sends as it makes it, to the worker: the head, then
// each piece, then the end, each as it comes; the worker's socket holds
// back a plugin faster than its client.
class ProcessStreamer final : public Streamer {
 public:
  explicit ProcessStreamer(int socket) : socket_(socket) {}
  void start_request() noexcept;
  // The worker and this process no longer agree on what comes next.
  bool lost() const noexcept { return lost_; }

  bool begin(http::Response& head) override;
  bool send(std::string_view piece) override;
  void end(bool complete) noexcept override;
  bool began() const noexcept override { return began_; }

 private:
  bool told_gone();

  int socket_;
  bool began_ = false;
  bool gone_ = false;  // the worker said nobody takes more, or the socket failed
  bool lost_ = false;
};

}  // namespace isolated

}  // namespace verbd::dispatch
