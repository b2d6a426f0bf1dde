// <verbd/memory_store.hpp> compiles on its own.
#include <verbd/memory_store.hpp>

std::size_t verbd_sdk_memory_store_hpp_alone() { return sizeof(verbd::MemoryStore); }
