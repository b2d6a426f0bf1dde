// <verbd/paths.hpp> compiles on its own.
#include <verbd/paths.hpp>

bool verbd_sdk_paths_hpp_alone() { return verbd::is_clean_path("/a"); }
