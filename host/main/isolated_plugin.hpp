// The process of one isolated plugin; see dispatch/isolated.hpp.
#pragma once

#include "config/config.hpp"

#include <filesystem>

namespace verbd {

// Serves the plugin in `file` on descriptor 3; returns the exit code.
int run_isolated_plugin(const config::Config& config, const std::filesystem::path& file);

}  // namespace verbd
