// DELETE: removes a resource, or a collection with everything in it
// ("DELETE /" empties the store). 204 when done, 404 when nothing was there.
#include <verbd/plugin.hpp>

namespace {

class DeletePlugin {
 public:
  explicit DeletePlugin(verbd::Host& host) : store_(host.store()) {}

  void handle(const verbd::Request& request, verbd::Response& response) const {
    verbd::Status status = store_.remove(request.path());
    response.status(status == verbd::Status::ok ? 204 : http_status(status));
  }

 private:
  const verbd::Store& store_;
};

}  // namespace

VERBD_PLUGIN(DeletePlugin, "delete", "1.0.0", "DELETE");
