// <verbd/http.hpp> compiles on its own.
#include <verbd/http.hpp>

bool verbd_sdk_http_hpp_alone() { return verbd::etag_list_matches("*", "\"x\"", false); }
