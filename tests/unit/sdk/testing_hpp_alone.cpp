// <verbd/testing.hpp> compiles on its own.
#include <verbd/testing.hpp>

std::size_t verbd_sdk_testing_hpp_alone() { return sizeof(verbd::testing::Reply); }
