// A plugin compiled into the test instead of loaded from a file: its class
// is exported as VERBD_PLUGIN would (verbd::detail::describe), and it gets
// the host's real services table, as the loader gives it.
//
//   const char* const methods[] = {"ECHO", nullptr};
//   const verbd_plugin_descriptor echo = verbd::detail::describe<Echo>("echo", "1.0.0", methods);
//   auto plugin = load_inline(echo, store);
#pragma once

#include "dispatch/services.hpp"
#include "log/log.hpp"
#include "plugin/plugin.hpp"

#include <verbd/plugin.hpp>

#include <memory>
#include <stdexcept>
#include <string>

namespace verbd::test {

// `descriptor` must outlive the plugin (a namespace-scope constant).
inline std::shared_ptr<const plugin::Plugin> load_inline(const verbd_plugin_descriptor& descriptor,
                                                         store::Store& store,
                                                         config::Settings settings = {}) {
  plugin::Context context{&verbd::log::get(std::string("plugin ") + descriptor.name), std::move(settings),
                          &store};
  plugin::Origin origin{std::string(descriptor.name) + ".so", {}};
  auto plugin = std::make_shared<plugin::Plugin>(boost::dll::shared_library(), descriptor, std::move(origin),
                                                 std::move(context), dispatch::services_table());
  std::string error;
  if (!plugin->start(error)) throw std::runtime_error("the plugin's factory failed: " + error);
  return plugin;
}

}  // namespace verbd::test
