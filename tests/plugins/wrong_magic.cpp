// Exports a descriptor with the wrong magic number.
#include "broken_descriptor.hpp"

extern "C" VERBD_EXPORT const verbd_plugin_descriptor verbd_plugin =
    broken::make([](verbd_plugin_descriptor& d) { d.magic = 0xdeadbeef; });
