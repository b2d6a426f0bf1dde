// A plugin that does nothing but answer 204: what is left of a request
// served through it is the cost of the plugin boundary itself.
#include <verbd/plugin.hpp>

namespace {

struct NoOp {
  explicit NoOp(verbd::Host&) {}
  void handle(const verbd::Request&, verbd::Response& response) const { response.status(204); }
};

}  // namespace

VERBD_PLUGIN(NoOp, "noop", "1.0.0", "NOOP");
