// Host code that has waited on another program counts it here: a reply
// from Redis, which may already be there when the thread reads it, so that
// the kernel did not put the thread to sleep. The plugin pool
// (dispatch/plugin_pool.hpp) counts a call during which this moved as one
// that waits, as it does a call during which its thread slept: calls that
// wait on others get threads of their own, so that their waits overlap.
#pragma once

namespace verbd {

inline thread_local unsigned long slow_waits = 0;

}  // namespace verbd
