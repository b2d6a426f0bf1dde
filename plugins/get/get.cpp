// GET: sends the representation of a resource, or of a collection (its
// index resource, else a listing). Conditional requests answer 304. A
// Range gets parts of a resource: the host serves them (<verbd/plugin.h>).
// Settings ([plugins.get]): index = "index.html".
#include "representation.hpp"

#include <verbd/plugin.hpp>

namespace {

class GetPlugin {
 public:
  // It reads from the store and the read cache only: the host calls it on the event loop.
  static constexpr bool never_blocks = true;

  explicit GetPlugin(verbd::Host& host) : representation_(host) {}

  void handle(const verbd::Request& request, verbd::Response& response) const {
    representation_.answer(request, response);
  }

 private:
  verbd::standard::Representation representation_;
};

}  // namespace

VERBD_PLUGIN(GetPlugin, "get", "1.0.0", "GET");
