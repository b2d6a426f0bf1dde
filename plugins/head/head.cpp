// HEAD: exactly GET's status and header fields, without the body
// (RFC 9110 §9.3.2). The host never reads a stored body for HEAD.
// Settings ([plugins.head]): index = "index.html", as for GET.
#include "../get/representation.hpp"

#include <verbd/plugin.hpp>

namespace {

class HeadPlugin {
 public:
  // It reads from the store and the read cache only: the host calls it on the event loop.
  static constexpr bool never_blocks = true;

  explicit HeadPlugin(verbd::Host& host) : representation_(host) {}

  void handle(const verbd::Request& request, verbd::Response& response) const {
    representation_.answer(request, response);
  }

 private:
  verbd::standard::Representation representation_;
};

}  // namespace

VERBD_PLUGIN(HeadPlugin, "head", "1.0.0", "HEAD");
