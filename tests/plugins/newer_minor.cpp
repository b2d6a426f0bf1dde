// Claims SDK ABI 1.9, newer than the host: the loader must refuse it.
#include "broken_descriptor.hpp"

extern "C" VERBD_EXPORT const verbd_plugin_descriptor verbd_plugin =
    broken::make([](verbd_plugin_descriptor& d) { d.abi_minor = 9; });
