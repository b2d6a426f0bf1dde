// Exports a descriptor that is valid but for one field, which `Breaks`
// damages, to test how the loader refuses it.
#pragma once

#include <verbd/plugin.hpp>

namespace broken {

struct Inert {
  explicit Inert(verbd::Host&) {}
  void handle(const verbd::Request&, verbd::Response& response) const { response.status(200); }
};

inline const char* const methods[] = {"BROKEN", nullptr};

template <class Breaks>
constexpr verbd_plugin_descriptor make(Breaks breaks) {
  auto descriptor = verbd::detail::describe<Inert>("broken", "1.0.0", methods);
  breaks(descriptor);
  return descriptor;
}

}  // namespace broken
