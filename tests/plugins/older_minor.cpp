// Built as a plugin of SDK ABI 1.0 would be: its descriptor ends before
// `flags`. The host must load it, and take it as a plugin that may block.
#include "broken_descriptor.hpp"

#include <verbd/detail/rules.hpp>

extern "C" VERBD_EXPORT const verbd_plugin_descriptor verbd_plugin =
    broken::make([](verbd_plugin_descriptor& d) {
      d.abi_minor = 0;
      d.struct_size = verbd::detail::descriptor_size_1_0;
      d.flags = VERBD_PLUGIN_NEVER_BLOCKS;  // beyond its struct_size: never read
    });
