// <verbd/detail/text.hpp> compiles on its own.
#include <verbd/detail/text.hpp>

bool verbd_sdk_detail_text_hpp_alone() { return verbd::detail::iequals("a", "A"); }
