// Logging: named loggers, so that every line says who speaks ("[server]",
// "[plugins]", "[store]", "[plugin get]"), writing to stderr or to
// [log] error_file; and the access log (access_log.hpp), to stderr or to
// [log] access_file.
//
// A log file is written one whole line per write(2), opened with O_APPEND:
// the worker processes share it and no two lines interleave. reopen() (on
// SIGUSR1) opens it again by name, so that logrotate can move it away, as
// with nginx and Apache.
#pragma once

#include "config/config.hpp"

#include <spdlog/spdlog.h>

#include <string>

namespace verbd::log {

// Sets the level of every logger, present and future, and where lines go.
// Call once at start. Throws std::runtime_error naming a file it cannot open.
void setup(const config::Log& settings);

// Opens the log files again by name. A file that cannot be opened is kept
// as it was; the returned text says why (empty: all reopened).
std::string reopen();

// In a worker process: every line, present loggers' and future ones', says
// which worker wrote it ("worker 2 [plugins] ..."). The access log's
// combined and JSON lines stay as they are.
void name_process(const std::string& name);

// The logger for one part of verbd; created on first use, then cached by
// the caller: `static auto& log = verbd::log::get("store");`.
spdlog::logger& get(const std::string& who);

// The access log, and its format.
spdlog::logger& access();
config::AccessFormat access_format();

}  // namespace verbd::log
