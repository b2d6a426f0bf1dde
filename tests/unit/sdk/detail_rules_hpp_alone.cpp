// <verbd/detail/rules.hpp> compiles on its own.
#include <verbd/detail/rules.hpp>

bool verbd_sdk_detail_rules_hpp_alone() { return verbd::detail::is_plugin_status(200); }
