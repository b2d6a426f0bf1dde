// MKCOL (RFC 4918 §9.3): makes an empty collection. 201 when made; 405
// when something is there already; 409 when the collection that would hold
// it is missing; 415 for a body, since verbd knows no MKCOL body.
#include "dav.hpp"

namespace {

using verbd::Status;

class MkcolPlugin {
 public:
  explicit MkcolPlugin(verbd::Host& host) : store_(host.store()) {}

  void handle(const verbd::Request& request, verbd::Response& response) const {
    if (request.content().size() > 0) return response.status(415);
    std::string path(request.path());
    if (path.back() != '/') path += '/';
    if (path == "/") return response.status(405);
    verbd::Entry there;
    std::string bare = path.substr(0, path.size() - 1);
    if (store_.stat(bare, there) == Status::ok) return response.status(405);
    Status status = store_.make_collection(path);
    if (status == Status::exists) return response.status(405);
    if (status != Status::ok) return response.status(http_status(status));
    response.status(201);
    response.header("Location", verbd::percent_encode_path(path));
  }

 private:
  const verbd::Store& store_;
};

}  // namespace

VERBD_PLUGIN(MkcolPlugin, "mkcol", "1.0.0", "MKCOL");
