#include "main/worker.hpp"

#include "board/board.hpp"
#include "common/exit_status.hpp"
#include "dispatch/dispatcher.hpp"
#include "dispatch/plugin_pool.hpp"
#include "dispatch/services.hpp"
#include "log/log.hpp"
#include "net/server.hpp"
#include "plugin/let_go.hpp"
#include "plugin/loader.hpp"
#include "plugin/watcher.hpp"
#include "store/shared_files.hpp"
#include "store/store.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <pthread.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <functional>

namespace verbd {
namespace {

// Starts the plugins whose [plugins.<method>] says isolation = "process".
plugin::Isolate isolate(dispatch::IsolatedCommand command) {
  return
      [command](const std::filesystem::path& file, plugin::Description& description, std::string& refusal) {
        return std::unique_ptr<plugin::Remote>(
            dispatch::PluginProcess::start(file, command, description, refusal));
      };
}

// Marks the plugin code that loading runs on this process's loader record,
// so that the supervisor names the plugin if the process dies in it, and
// stops it if it hangs there; files quarantined for that are not loaded.
plugin::LoadWatch watch_loading(board::Board& board, std::size_t first_loop) {
  board::CallRecord& record = board.load_call(first_loop);
  auto run = [&record](const plugin::PluginCode& plugin, const std::function<void()>& code) {
    record.generation = plugin.generation;
    record.file_identity = plugin.identity;
    record.file.set(plugin.file.filename().string());
    record.name.set(plugin.name);
    record.version.set(plugin.version);
    record.method.set("");
    record.target.set("");
    auto now =
        std::chrono::steady_clock::now().time_since_epoch();  // CLOCK_MONOTONIC, which the supervisor reads
    record.loading_since_ns.store(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
    struct Done {
      board::CallRecord& record;
      ~Done() { record.loading_since_ns.store(0); }
    } done{record};
    board::InPlugin in_plugin(record);
    code();
  };
  auto unloadable = [&board](const FileIdentity& file) {
    return board.quarantine().contains_as_unloadable(file);
  };
  return {run, unloadable};
}

// Which plugins of a generation the supervisor has quarantined.
plugin::IsQuarantined quarantined_on(board::Board& board) {
  return [&board](const plugin::Plugin& plugin) { return board.quarantine().contains(plugin.identity()); };
}

// The live plugin set: rebuilt when the folder changes (watch) or on SIGHUP,
// which also reads the config again. Settings that shape the listening side
// (host, port, workers, processes, limits) take effect on restart.
class LivePlugins {
 public:
  LivePlugins(const config::Config& config, const Overrides& overrides, board::Board& board,
              std::size_t first_loop)
      : file_(config.file),
        overrides_(overrides),
        plugins_(config.plugins),
        store_(store::make_store(config.store, false)),
        loader_(*store_, dispatch::services_table(), isolate(isolated_command(config)),
                watch_loading(board, first_loop)),
        board_(board) {}

  store::Store& store() { return *store_; }
  const plugin::Registry& registry() const { return registry_; }

  // Loads the folder as the generation after the newest any worker has:
  // workers that see the same change give it the same number, and a
  // replacement worker goes on from where the one it replaces was.
  void reload_folder() {
    auto before = registry_.current();
    std::uint64_t number =
        std::max<std::uint64_t>(before ? before->number() + 1 : 1, board_.latest_generation().load());
    auto report = loader_.load(plugins_, number, before.get());
    registry_.publish(report.generation);
    auto latest = board_.latest_generation().load();
    while (latest < number && !board_.latest_generation().compare_exchange_weak(latest, number)) {
    }
    plugin::log_generation(report, quarantined_on(board_));
  }

  void reload_config() {
    static auto& log = verbd::log::get("server");
    try {
      plugins_ = load_config(file_, overrides_).plugins;
    } catch (const std::exception& e) {
      log.error("SIGHUP: config not reloaded, the old one stays in force: {}", e.what());
      return;
    }
    log.info("SIGHUP: reloading plugins from {}", plugins_.directory.string());
    reload_folder();
  }

 private:
  std::string file_;
  Overrides overrides_;
  config::Plugins plugins_;
  std::unique_ptr<store::Store> store_;
  plugin::Loader loader_;
  plugin::Registry registry_;
  board::Board& board_;
};

// Says "serving" to the supervisor.
void report_ready(int ready_fd) {
  char byte = 1;
  while (::write(ready_fd, &byte, 1) < 0 && errno == EINTR) {
  }
  ::close(ready_fd);
}

int serve(const config::Config& config, LivePlugins& live, supervisor::WorkerStart start) {
  static auto& log = verbd::log::get("server");
  boost::asio::io_context main_context;  // signals, the plugin folder watcher, recycling
  boost::asio::signal_set stops(main_context, SIGINT, SIGTERM);
  boost::asio::signal_set hangups(main_context, SIGHUP);
  boost::asio::signal_set reopens(main_context, SIGUSR1);
  ::pthread_sigmask(SIG_SETMASK, &start.signal_mask, nullptr);  // what came meanwhile arrives now

  // Set once the server exists; a pool's watchdog asks for it through main_context.
  std::function<void()> recycle;
  dispatch::PoolOptions pool{dispatch::pool_settings_from(config), [&] {
                               boost::asio::post(main_context, [&] {
                                 if (recycle) recycle();
                               });
                             }};
  auto first_loop = start.placement.first_loop;
  net::Server server(net::settings_from(config),
                     dispatch::dispatchers(live.store(), live.registry(), *start.board, first_loop, pool),
                     std::move(start.placement));
  report_ready(start.ready_fd);  // before the first accept: a request's crash is not a start's
  server.start();

  plugin::Watcher watcher(main_context, config.plugins.directory, [&] { live.reload_folder(); });
  std::string watch_error;
  if (config.plugins.watch && !watcher.start(watch_error))
    log.warn("{}: plugin changes need SIGHUP", watch_error);

  bool stopping = false, recycling = false;
  auto stop = [&] {
    stopping = true;
    server.stop(config.limits.shutdown_drain);
    stops.cancel();
    hangups.cancel();
    reopens.cancel();
    watcher.stop();
  };
  stops.async_wait([&](boost::system::error_code error, int signal) {
    if (error || stopping) return;
    log.info("signal {}: finishing requests in flight (at most {} ms), then exiting", signal,
             config.limits.shutdown_drain.count());
    stop();
  });
  recycle = [&] {
    if (stopping) return;
    log.error(
        "{} plugin threads of one worker are stuck past limits.handler_timeout_ms: recycling this worker "
        "process (requests in flight finish, at most {} ms; then the supervisor starts a fresh one)",
        config.server.plugin_threads, config.limits.shutdown_drain.count());
    recycling = true;
    stop();
  };
  std::function<void(boost::system::error_code, int)> on_hangup = [&](boost::system::error_code error, int) {
    if (error) return;
    live.reload_config();
    if (std::string problem = server.reload_tls(); !problem.empty())
      log.error("SIGHUP: TLS certificate not reloaded, the old one stays in force: {}", problem);
    hangups.async_wait(on_hangup);
  };
  hangups.async_wait(on_hangup);
  std::function<void(boost::system::error_code, int)> on_reopen = [&](boost::system::error_code error, int) {
    if (error) return;
    if (std::string problem = verbd::log::reopen(); !problem.empty()) log.error("SIGUSR1: {}", problem);
    dispatch::PluginProcess::signal_all(SIGUSR1);  // isolated plugins' processes write logs too
    reopens.async_wait(on_reopen);
  };
  reopens.async_wait(on_reopen);
  main_context.run();
  server.wait();
  log.info("stopped");
  return recycling ? exit_to_be_recycled : 0;
}

}  // namespace

config::Config load_config(const std::string& file, const Overrides& overrides) {
  config::Config config = config::load(file);
  if (overrides.port) config.server.port = *overrides.port;
  if (overrides.host) config.server.host = *overrides.host;
  if (overrides.plugins) config.plugins.directory = *overrides.plugins;
  if (overrides.data) config.store.root = *overrides.data;
  if (overrides.log_level) config.log.level = config::parse_level(*overrides.log_level);
  return config;
}

dispatch::IsolatedCommand isolated_command(const config::Config& config) {
  dispatch::IsolatedCommand command;
  command.binary = "/proc/self/exe";  // this very binary, even if the file was replaced since
  auto level = spdlog::level::to_string_view(config.log.level);
  command.arguments = {
      "--config",
      config.file.string(),
      "--plugins",
      config.plugins.directory.string(),
      "--data",
      config.store.root.string(),
      "--log-level",
      config.log.level == spdlog::level::warn ? "warn" : std::string(level.data(), level.size())};
  if (config.store.backend == "files") command.store_root = config.store.root;
  command.start_timeout = config.limits.handler_timeout;
  if (auto pinned = store::pinned_as_text(); !pinned.empty())
    command.arguments.insert(command.arguments.end(), {"--shared-files", pinned});
  return command;
}

int run_worker(const config::Config& config, const Overrides& overrides, supervisor::WorkerStart start) {
  verbd::log::name_process("worker " + std::to_string(start.number));
  board::record_crashes_of_this_process();
  try {
    LivePlugins live(config, overrides, *start.board, start.placement.first_loop);
    live.reload_folder();
    int code = serve(config, live, std::move(start));
    // Threads written off, or a teardown of plugins let go, may still be in
    // plugin code, using the store and the plugins: the process ends
    // without destroying them.
    if (dispatch::threads_written_off() > 0 || !plugin::let_go_within(std::chrono::seconds(1))) {
      spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& logger) { logger->flush(); });
      std::_Exit(code);
    }
    return code;
  } catch (const std::exception& e) {
    verbd::log::get("server").critical("worker cannot serve: {}", e.what());
    return 1;
  }
}

}  // namespace verbd
