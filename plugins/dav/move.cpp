// MOVE (RFC 4918 §9.9): moves a resource or a collection to the
// Destination in one rename, so that a reader finds it at one path or the
// other, never at neither; its dead properties go with it, its locks are
// released. What a status means is said at dav::transfer.
#include "dav.hpp"

namespace {

class MovePlugin {
 public:
  explicit MovePlugin(verbd::Host& host) : store_(host.store()) {}

  void handle(const verbd::Request& request, verbd::Response& response) const {
    dav::transfer(store_, request, response, true);
  }

 private:
  const verbd::Store& store_;
};

}  // namespace

VERBD_PLUGIN(MovePlugin, "move", "1.0.0", "MOVE");
