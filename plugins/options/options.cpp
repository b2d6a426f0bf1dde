// OPTIONS (RFC 9110 §9.3.7): says which methods this server serves, in
// Allow, with an empty body. "OPTIONS *" asks about the server as a whole; any
// other target gets the same answer, since every method plugin serves every
// path. An example plugin: built into plugins-extra/, not loaded by default.
#include <verbd/plugin.hpp>

namespace {

class OptionsPlugin {
 public:
  // It touches nothing but the response: the host calls it on the event loop.
  static constexpr bool never_blocks = true;

  explicit OptionsPlugin(verbd::Host&) {}

  void handle(const verbd::Request& request, verbd::Response& response) const {
    response.status(200);
    response.header("Allow", request.allow());
  }
};

}  // namespace

VERBD_PLUGIN(OptionsPlugin, "options", "1.0.0", "OPTIONS");
