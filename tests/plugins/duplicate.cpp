// Serves ECHO like good.cpp: the loader must refuse one of the two.
#include <verbd/plugin.hpp>

namespace {

struct AnotherEcho {
  explicit AnotherEcho(verbd::Host&) {}
  void handle(const verbd::Request&, verbd::Response& response) const { response.status(200); }
};

}  // namespace

VERBD_PLUGIN(AnotherEcho, "another-echo", "1.0.0", "ECHO");
