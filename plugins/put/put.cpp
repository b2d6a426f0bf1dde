// PUT: creates (201 + Location) or replaces (204) the resource at the path,
// creating missing parent collections. A collection path is 409. A body of
// any size: one the host spooled to a file is moved into place, not copied.
// Preconditions (RFC 9110 §13.1): If-Match and If-None-Match, else 412.
#include <verbd/http.hpp>
#include <verbd/plugin.hpp>

namespace {

using verbd::Entry;
using verbd::Status;

class PutPlugin {
 public:
  explicit PutPlugin(verbd::Host& host) : store_(host.store()) {}

  void handle(const verbd::Request& request, verbd::Response& response) const {
    if (request.names_collection()) return response.status(409);
    // Only a precondition needs what is there now; the write itself refuses
    // a collection (409), so a plain PUT makes no lookup of its own.
    if (has_preconditions(request)) {
      Entry current;
      Status status = store_.stat(request.path(), current);
      if (status != Status::ok && status != Status::not_found) return response.status(http_status(status));
      if (current.is_collection()) return response.status(409);
      if (!preconditions_hold(request, current)) return response.status(412);
    }

    // If-None-Match: * means "only if nothing is there": the store checks
    // that atomically, so two such PUTs cannot both succeed.
    bool create_only = request.header("If-None-Match").value_or("") == "*";
    Entry written;
    bool created = false;
    Status status =
        store_.write(request.path(), request.content(), request.header("Content-Type").value_or(""),
                     create_only ? verbd::WriteMode::create : verbd::WriteMode::replace, written, created);
    if (status == Status::exists) return response.status(412);
    if (status != Status::ok) return response.status(http_status(status));
    response.header("ETag", written.etag());
    if (!created) return response.status(204);
    response.status(201);
    response.header("Location", verbd::percent_encode_path(request.path()));
  }

 private:
  static bool has_preconditions(const verbd::Request& request) {
    return request.header("If-Match") || request.header("If-None-Match");
  }

  static bool preconditions_hold(const verbd::Request& request, const Entry& current) {
    if (auto tags = request.header("If-Match"))
      if (!current.exists() || !verbd::etag_list_matches(*tags, current.etag(), false)) return false;
    if (auto tags = request.header("If-None-Match"))
      if (current.exists() && verbd::etag_list_matches(*tags, current.etag(), true)) return false;
    return true;
  }

  const verbd::Store& store_;
};

}  // namespace

VERBD_PLUGIN(PutPlugin, "put", "1.1.0", "PUT");
