// COPY (RFC 4918 §9.8): copies a resource, or a collection with everything
// below it (Depth infinity, the default) or alone (Depth 0), to the
// Destination, media types and dead properties with it; locks stay behind.
// What a status means is said at dav::transfer.
#include "dav.hpp"

namespace {

class CopyPlugin {
 public:
  explicit CopyPlugin(verbd::Host& host) : store_(host.store()) {}

  void handle(const verbd::Request& request, verbd::Response& response) const {
    dav::transfer(store_, request, response, false);
  }

 private:
  const verbd::Store& store_;
};

}  // namespace

VERBD_PLUGIN(CopyPlugin, "copy", "1.0.0", "COPY");
