// `verbd --serve-plugin FILE --config ...`: the process of one isolated
// plugin (dispatch/isolated.hpp), started by a worker with its end of a
// socket pair as descriptor 3. It loads the plugin, says how the plugin
// describes itself, and answers each request that comes on the socket with a
// Dispatcher of its own, until the worker closes the socket.
#include "main/isolated_plugin.hpp"

#include "board/board.hpp"
#include "dispatch/dispatcher.hpp"
#include "dispatch/isolated.hpp"
#include "dispatch/services.hpp"
#include "log/log.hpp"
#include "plugin/loader.hpp"
#include "store/shared_files.hpp"
#include "store/store.hpp"

#include <pthread.h>
#include <signal.h>

#include <csignal>
#include <string>
#include <thread>

namespace verbd {

namespace {
// SIGUSR1, passed on by the worker (or sent to every verbd process, as
// `killall -USR1 verbd` does), reopens the log files as in the other
// processes. A thread of its own waits for it, so that it never interrupts
// the plugin; the signal is blocked in every thread started after this (the
// worker started this process with it blocked already).
void reopen_logs_on_sigusr1() {
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  ::pthread_sigmask(SIG_BLOCK, &usr1, nullptr);
  std::thread([usr1] {
    for (int signal = 0;;)
      if (::sigwait(&usr1, &signal) == 0)
        if (std::string problem = log::reopen(); !problem.empty())
          log::get("plugins").error("SIGUSR1: {}", problem);
  }).detach();
}
}  // namespace

int run_isolated_plugin(const config::Config& config, const std::filesystem::path& file,
                        std::string_view shared_files) {
  constexpr int socket = 3;
  verbd::log::name_process("isolated " + file.filename().string());
  // Signals are the worker's business: this process ends with its socket.
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) std::signal(signal, SIG_IGN);
  reopen_logs_on_sigusr1();
  // As in a worker: a fatal signal ends the process as that signal (even
  // under a sanitizer, whose own handler would turn it into an abort), so
  // that the worker can say which it was.
  board::record_crashes_of_this_process();
  try {
    if (!shared_files.empty()) store::adopt_pinned(shared_files);
    auto store = store::make_store(config.store, false);
    plugin::Loader loader(*store, dispatch::services_table());
    std::string refusal;
    auto plugin = loader.load_here(file, config.plugins, refusal);
    if (!plugin) return dispatch::isolated::send_refusal(socket, refusal) ? 1 : 2;
    if (!dispatch::isolated::send_description(socket, *plugin)) return 2;
    plugin::Registry registry;
    registry.publish(std::make_shared<plugin::Generation>(1, std::vector{plugin}));
    board::Board board(1);
    dispatch::Dispatcher dispatcher(*store, registry, board, board.call(0));
    http::Request request;
    http::Response response;
    std::string allow;
    dispatch::isolated::ProcessStreamer streamer(socket);
    dispatcher.stream_through(&streamer);
    while (dispatch::isolated::receive_request(socket, request, allow)) {
      dispatcher.use_allow_from_worker(allow);
      streamer.start_request();
      dispatcher.answer(request, response);
      if (streamer.began() ? streamer.lost() : !dispatch::isolated::send_response(socket, response)) break;
    }
    return 0;
  } catch (const std::exception& e) {
    dispatch::isolated::send_refusal(socket, e.what());
    return 1;
  }
}

}  // namespace verbd
