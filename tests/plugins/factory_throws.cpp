// Its constructor throws: the loader must refuse it with the exception's text.
#include <verbd/plugin.hpp>

#include <stdexcept>

namespace {

struct Refuses {
  explicit Refuses(verbd::Host&) { throw std::runtime_error("no database configured"); }
  void handle(const verbd::Request&, verbd::Response&) const {}
};

}  // namespace

VERBD_PLUGIN(Refuses, "refuses", "1.0.0", "REFUSE");
