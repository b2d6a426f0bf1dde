// THROW throws from handle(); BADRESP breaks the response contract in the
// way its query names. The host must answer 500 and keep serving.
#include <verbd/plugin.hpp>

#include <stdexcept>

namespace {

struct Misbehaves {
  explicit Misbehaves(verbd::Host&) {}

  void handle(const verbd::Request& request, verbd::Response& response) const {
    if (request.method() == "THROW") throw std::runtime_error("boom");
    auto how = request.query();
    if (how == "status") response.status(99);
    if (how == "informational") response.status(101);
    if (how == "too_high") response.status(600);
    if (how == "nul") response.header("X-Nul", std::string_view("a\0b", 3));
    if (how == "owned") response.header("Content-Length", "5");
    if (how == "crlf") response.header("X-Split", "a\r\nInjected: yes");
    if (how == "name") response.header("Bad Name", "x");
    if (how == "fine") response.status(200);
  }
};

}  // namespace

VERBD_PLUGIN(Misbehaves, "misbehaves", "1.0.0", "THROW", "BADRESP");
