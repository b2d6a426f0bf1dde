// verbd: reads the config, opens the store, loads the plugins, serves.
//
//   verbd --config FILE [--port N] [--host H] [--plugins DIR] [--data DIR] [--log-level L]
//   verbd --check --config FILE
//
// Exit codes: 0 after a clean stop (SIGINT, SIGTERM) or a passing --check;
// 1 when verbd cannot start or --check finds a problem; 2 for a bad config
// or command line.
#include "config/config.hpp"
#include "dispatch/dispatcher.hpp"
#include "dispatch/services.hpp"
#include "log/log.hpp"
#include "net/server.hpp"
#include "plugin/loader.hpp"
#include "plugin/watcher.hpp"
#include "store/store.hpp"

#include <verbd/plugin.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>

namespace {

using namespace verbd;

struct Overrides {
  std::optional<std::uint16_t> port;
  std::optional<std::string> host;
  std::optional<std::string> plugins;
  std::optional<std::string> data;
  std::optional<std::string> log_level;
};

// The config file, with the command line's overrides on top. Throws config::Error.
config::Config load_config(const std::string& file, const Overrides& overrides) {
  config::Config config = config::load(file);
  if (overrides.port) config.server.port = *overrides.port;
  if (overrides.host) config.server.host = *overrides.host;
  if (overrides.plugins) config.plugins.directory = *overrides.plugins;
  if (overrides.data) config.store.root = *overrides.data;
  if (overrides.log_level) config.log.level = config::parse_level(*overrides.log_level);
  return config;
}

// `verbd --check`: the plugin table on stdout, each problem on stderr.
int check(const plugin::LoadReport& report) {
  std::printf("%-10s %-32s %-12s %-10s %s\n", "METHOD", "FILE", "PLUGIN", "VERSION", "ABI");
  for (const auto& plugin : report.generation->plugins())
    for (const auto& method : plugin->methods())
      std::printf("%-10s %-32s %-12s %-10s %s\n", method.c_str(), plugin->file().filename().c_str(),
                  plugin->name().c_str(), plugin->version().c_str(), plugin->abi().c_str());
  for (const auto& refused : report.refused)
    std::fprintf(stderr, "verbd: %s: %s\n", refused.file.c_str(), refused.reason.c_str());
  if (report.generation->plugins().empty()) std::fprintf(stderr, "verbd: no plugin loaded\n");
  return report.refused.empty() && !report.generation->plugins().empty() ? 0 : 1;
}

// The live plugin set: rebuilt when the folder changes (watch) or on SIGHUP,
// which also reads the config again. Settings that shape the listening side
// (host, port, workers, limits) take effect on restart.
class LivePlugins {
 public:
  LivePlugins(std::string file, Overrides overrides, config::Plugins plugins, plugin::Loader& loader,
              plugin::Registry& registry)
      : file_(std::move(file)),
        overrides_(std::move(overrides)),
        plugins_(std::move(plugins)),
        loader_(loader),
        registry_(registry) {}

  void reload_folder() {
    auto before = registry_.current();
    auto report = loader_.load(plugins_, before->number() + 1, before.get());
    registry_.publish(report.generation);
    plugin::log_generation(report);
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
  plugin::Loader& loader_;
  plugin::Registry& registry_;
};

int serve(const config::Config& config, store::Store& store, plugin::Registry& registry, LivePlugins& live) {
  static auto& log = verbd::log::get("server");
  boost::asio::io_context main_context;  // signals and the plugin folder watcher
  // The handlers are installed before anyone can know the server is up: a
  // signal sent on seeing "listening" must not meet the default action
  // (SIGHUP and SIGTERM would end the process). Until async_wait below,
  // Asio queues what arrives.
  boost::asio::signal_set stops(main_context, SIGINT, SIGTERM);
  boost::asio::signal_set hangups(main_context, SIGHUP);

  net::Server server(net::settings_from(config), dispatch::dispatchers(store, registry));
  server.start();
  log.info("listening on http://{}:{}/ with {} worker(s), {} store at {}", config.server.host, server.port(),
           config.server.workers, config.store.backend,
           config.store.backend == "files" ? config.store.root.string() : "(memory)");

  plugin::Watcher watcher(main_context, config.plugins.directory, [&] { live.reload_folder(); });
  std::string watch_error;
  if (config.plugins.watch && !watcher.start(watch_error))
    log.warn("{}: plugin changes need SIGHUP", watch_error);

  stops.async_wait([&](boost::system::error_code error, int signal) {
    if (error) return;
    log.info("signal {}: finishing requests in flight (at most {} ms), then exiting", signal,
             config.limits.shutdown_drain.count());
    server.stop(config.limits.shutdown_drain);
    hangups.cancel();
    watcher.stop();
  });
  std::function<void(boost::system::error_code, int)> on_hangup = [&](boost::system::error_code error, int) {
    if (error) return;
    live.reload_config();
    hangups.async_wait(on_hangup);
  };
  hangups.async_wait(on_hangup);
  main_context.run();
  server.wait();
  log.info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"verbd: an HTTP/1.1 server whose request methods are plugins"};
  std::string file;
  Overrides overrides;
  bool check_only = false;
  app.add_option("--config", file, "the TOML configuration file")->required()->check(CLI::ExistingFile);
  app.add_option("--port", overrides.port, "listen on this port (0: any free port)");
  app.add_option("--host", overrides.host, "listen on this address");
  app.add_option("--plugins", overrides.plugins, "the plugin folder");
  app.add_option("--data", overrides.data, "the files store's root folder");
  app.add_option("--log-level", overrides.log_level, "trace, debug, info, warn or error");
  app.add_flag("--check", check_only, "check the config, load every plugin, print them, and exit");
  app.set_version_flag("--version", std::string("verbd " VERBD_VERSION " (plugin ABI ") +
                                        std::to_string(VERBD_ABI_MAJOR) + "." +
                                        std::to_string(VERBD_ABI_MINOR) + ")");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  // A write past RLIMIT_FSIZE must fail with EFBIG (answered 507), not kill
  // the server; a write to a closed socket must fail with EPIPE, not kill it.
  std::signal(SIGXFSZ, SIG_IGN);
  std::signal(SIGPIPE, SIG_IGN);

  config::Config config;
  try {
    config = load_config(file, overrides);
  } catch (const config::Error& e) {
    std::fprintf(stderr, "verbd: %s\n", e.what());
    return 2;
  }
  verbd::log::setup(config.log.level);

  try {
    auto store = store::make_store(config.store);
    plugin::Loader loader(*store, dispatch::services_table());
    plugin::Registry registry;
    auto report = loader.load(config.plugins, 1);
    if (check_only) return check(report);
    registry.publish(report.generation);
    plugin::log_generation(report);
    LivePlugins live(file, overrides, config.plugins, loader, registry);
    return serve(config, *store, registry, live);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "verbd: %s\n", e.what());
    return 1;
  }
}
