// A plugin folder for a test, stocked with copies of built plugins: the fake
// ones of tests/plugins (VERBD_TEST_PLUGIN_DIR) and standard ones
// (VERBD_PLUGIN_DIR), each by name without ".so".
#pragma once

#include "temp_folder.hpp"

#include <filesystem>
#include <initializer_list>
#include <string>

namespace verbd::test {

inline void stock(const TempFolder& folder, std::initializer_list<std::string> test_plugins,
                  std::initializer_list<std::string> standard = {}) {
  namespace fs = std::filesystem;
  fs::create_directories(folder / "plugins");
  for (const auto& name : test_plugins)
    fs::copy_file(fs::path(VERBD_TEST_PLUGIN_DIR) / (name + ".so"), folder / ("plugins/" + name + ".so"));
  for (const auto& name : standard)
    fs::copy_file(fs::path(VERBD_PLUGIN_DIR) / (name + ".so"), folder / ("plugins/" + name + ".so"));
}

}  // namespace verbd::test
