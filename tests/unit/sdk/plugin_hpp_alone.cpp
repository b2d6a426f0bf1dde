// <verbd/plugin.hpp> compiles on its own.
#include <verbd/plugin.hpp>

int verbd_sdk_plugin_hpp_alone() { return verbd::http_status(verbd::Status::not_found); }
