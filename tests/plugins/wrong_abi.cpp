// Claims SDK ABI 2: the loader must refuse it and say to rebuild.
#include "broken_descriptor.hpp"

extern "C" VERBD_EXPORT const verbd_plugin_descriptor verbd_plugin =
    broken::make([](verbd_plugin_descriptor& d) { d.abi_major = 2; });
