// A worker process: opens the store, loads the plugins, and serves on the
// listening sockets its supervisor gave it until SIGTERM or SIGINT. It
// reloads its plugins when the folder changes or on SIGHUP.
#pragma once

#include "config/config.hpp"
#include "dispatch/isolated.hpp"
#include "supervisor/supervisor.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace verbd {

// What the command line says over the config file.
struct Overrides {
  std::optional<std::uint16_t> port;
  std::optional<std::string> host;
  std::optional<std::string> plugins;
  std::optional<std::string> data;
  std::optional<std::string> log_level;
};

// The config file, with the command line's overrides on top. Throws config::Error.
config::Config load_config(const std::string& file, const Overrides& overrides);

// How a worker starts the process of an isolated plugin: this binary, with
// the config it was given.
dispatch::IsolatedCommand isolated_command(const config::Config& config);

// Runs one worker process; returns its exit code.
int run_worker(const config::Config& config, const Overrides& overrides, supervisor::WorkerStart start);

}  // namespace verbd
