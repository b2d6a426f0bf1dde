// verbd: reads the config and checks that the store opens, then runs as the
// supervisor of worker processes (supervisor/supervisor.hpp), each of which
// loads the plugins and serves (main/worker.hpp).
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
#include "main/isolated_plugin.hpp"
#include "main/worker.hpp"
#include "net/tls.hpp"
#include "plugin/loader.hpp"
#include "store/store.hpp"
#include "supervisor/supervisor.hpp"

#include <verbd/plugin.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>

namespace {

using namespace verbd;

// `verbd --check`: the plugin table on stdout, each problem on stderr. A
// plugin the running verbd has quarantined (files store) is marked so, and
// one that runs in a process of its own (loaded here all the same).
int check(const config::Config& config, const plugin::LoadReport& report) {
  auto quarantined = supervisor::read_quarantine_list(config);
  auto is_quarantined = [&](const plugin::Plugin& plugin) {
    return std::find(quarantined.begin(), quarantined.end(), plugin.identity()) != quarantined.end();
  };
  std::printf("%-10s %-32s %-12s %-10s %-5s %s\n", "METHOD", "FILE", "PLUGIN", "VERSION", "ABI", "STATE");
  for (const auto& plugin : report.generation->plugins())
    for (const auto& method : plugin->methods())
      std::printf("%-10s %-32s %-12s %-10s %-5s %s\n", method.c_str(), plugin->file().filename().c_str(),
                  plugin->name().c_str(), plugin->version().c_str(), plugin->abi().c_str(),
                  is_quarantined(*plugin)                                 ? "quarantined"
                  : plugin::runs_isolated(plugin->file(), config.plugins) ? "ok, in a process of its own"
                                                                          : "ok");
  for (const auto& refused : report.refused)
    std::fprintf(stderr, "verbd: %s: %s\n", refused.file.c_str(), refused.reason.c_str());
  if (report.generation->plugins().empty()) std::fprintf(stderr, "verbd: no plugin loaded\n");
  return report.refused.empty() && !report.generation->plugins().empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"verbd: an HTTP/1.1 server whose request methods are plugins"};
  std::string file;
  Overrides overrides;
  bool check_only = false;
  std::string isolated_plugin, shared_files;
  app.add_option("--config", file, "the TOML configuration file")->required()->check(CLI::ExistingFile);
  app.add_option("--port", overrides.port, "listen on this port (0: any free port)");
  app.add_option("--host", overrides.host, "listen on this address");
  app.add_option("--plugins", overrides.plugins, "the plugin folder");
  app.add_option("--data", overrides.data, "the files store's root folder");
  app.add_option("--log-level", overrides.log_level, "trace, debug, info, warn or error");
  app.add_flag("--check", check_only, "check the config, load every plugin, print them, and exit");
  app.add_option("--serve-plugin", isolated_plugin)
      ->group("");  // a worker starts this: dispatch/isolated.hpp
  app.add_option("--shared-files", shared_files)->group("");  // with it: store/shared_files.hpp
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
  try {
    verbd::log::setup(config.log);
    if (!isolated_plugin.empty()) return run_isolated_plugin(config, isolated_plugin, shared_files);
    // The certificate and key are loaded once here: a bad one stops the
    // start with its name, and the session ticket keys are made before the
    // workers are forked, so that they all share them (net/tls.hpp).
    if (config.tls.enabled) net::TlsContext check_tls(net::tls_settings_from(config.tls));
    if (check_only) {
      auto store = store::make_store(config.store, false);  // a running verbd may be writing
      plugin::Loader loader(*store, dispatch::services_table());
      return check(config, loader.load(config.plugins, 1));
    }
    // Opened here once, before any worker: it fails early if it cannot be
    // used, and it empties the scratch folder of writes a crash interrupted.
    store::make_store(config.store, true);
    return supervisor::supervise(config, [&](supervisor::WorkerStart start) {
      return run_worker(config, overrides, std::move(start));
    });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "verbd: %s\n", e.what());
    return 1;
  }
}
