// <verbd/detail/store_rules.hpp> compiles on its own.
#include <verbd/detail/store_rules.hpp>

bool verbd_sdk_detail_store_rules_hpp_alone() { return verbd::detail::is_clean_path("/a"); }
