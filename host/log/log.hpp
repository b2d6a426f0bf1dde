// Logging: one spdlog sink shared by named loggers, so that every line says
// who speaks ("[server]", "[plugins]", "[store]", "[access]", "[plugin get]").
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace verbd::log {

// Sets the level of every logger, present and future. Call once at start.
void setup(spdlog::level::level_enum level);

// In a worker process: every line, present loggers' and future ones', says
// which worker wrote it ("worker 2 [plugins] ...").
void name_process(const std::string& name);

// The logger for one part of verbd; created on first use, then cached by
// the caller: `static auto& log = verbd::log::get("store");`.
spdlog::logger& get(const std::string& who);

}  // namespace verbd::log
