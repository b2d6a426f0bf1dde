// The process of one isolated plugin; see dispatch/isolated.hpp.
#pragma once

#include "config/config.hpp"

#include <filesystem>
#include <string_view>

namespace verbd {

// Serves the plugin in `file` on descriptor 3; returns the exit code.
// `shared_files`: the files store's shared files its worker handed it
// (store/shared_files.hpp), or empty.
int run_isolated_plugin(const config::Config& config, const std::filesystem::path& file,
                        std::string_view shared_files);

}  // namespace verbd
