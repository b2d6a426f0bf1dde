// Letting a generation of plugins go without tearing it down on the spot.
//
// The last holder of a generation tears its plugins down: their
// destructors, then the unloading of their libraries, which runs their
// static destructors. An event loop lets the old generation go when it
// sees a new one, and a teardown there, however long it took, held up
// every connection of the loop; one that hung stopped the loop for good.
// The loop hands it to a thread of its own instead (one per process,
// started with the first).
#pragma once

#include "plugin/generation.hpp"

#include <chrono>
#include <memory>

namespace verbd::plugin {

// Lets `generation` go on that thread: torn down there if it was the last
// holder. If it cannot be handed over (out of memory), it is let go here.
void let_go(std::shared_ptr<const Generation> generation) noexcept;

// Waits up to `limit` for every generation handed over to be let go; false
// when a teardown is still running (the process should then end without
// destroying what that plugin code may use).
bool let_go_within(std::chrono::milliseconds limit);

}  // namespace verbd::plugin
