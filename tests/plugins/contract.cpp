// Answers SHAPE (and HEAD) in the shape its path names: every kind of
// response a plugin can make, well or badly, for the test that sends each
// through the SDK's test host and through a running verbd and compares.
#include <verbd/plugin.hpp>

#include <stdexcept>
#include <string>

namespace {

class ContractPlugin {
 public:
  explicit ContractPlugin(verbd::Host& host) : store_(host.store()) {}

  void handle(const verbd::Request& request, verbd::Response& response) const {
    std::string_view shape = request.path().substr(1);
    if (shape == "text") return text(response);
    if (shape == "untyped") return response.append("raw bytes");
    if (shape == "empty404") return response.status(404);
    if (shape == "typed404") return typed404(response);
    if (shape == "no-content") return response.status(204), response.append("dropped");
    if (shape == "not-modified") return response.status(304), response.header("ETag", "\"x\"");
    if (shape == "resource") return resource(response);
    if (shape == "resource-and-more") return resource(response), response.append("and more\n");
    if (shape == "missing") return missing(response);
    if (shape == "bad-status") return response.header("X-Set", "before"), response.status(1000);
    if (shape == "owned-field") return response.header("Date", "yesterday");
    if (shape == "injected-field") return response.header("X-Split", "a\r\nInjected: yes");
    if (shape == "throws") throw std::runtime_error("thrown on purpose");
    response.status(400);
  }

 private:
  static void text(verbd::Response& response) {
    response.status(200);
    response.header("Content-Type", "text/plain");
    response.header("X-Shape", "text");
    response.append("hello");
  }

  static void typed404(verbd::Response& response) {
    response.status(404);
    response.header("Content-Type", "text/html");
    response.append("<p>gone</p>");
  }

  void resource(verbd::Response& response) const {
    verbd::Entry entry;
    bool created = false;
    store_.write("/stored.txt", "stored bytes", {}, verbd::WriteMode::replace, entry, created);
    if (response.resource("/stored.txt", entry) != verbd::Status::ok) return response.status(500);
    response.header("Content-Type", entry.media_type());
    response.header("ETag", entry.etag());
  }

  static void missing(verbd::Response& response) {
    verbd::Entry entry;
    response.status(http_status(response.resource("/nothing/here", entry)));
  }

  const verbd::Store& store_;
};

}  // namespace

VERBD_PLUGIN(ContractPlugin, "contract", "1.0.0", "SHAPE", "HEAD");
