// OPTIONS for a WebDAV server (RFC 4918 §10.1): Allow, as the example
// OPTIONS plugin says it, and DAV: the compliance classes of the methods
// loaded now: "1" with PROPFIND, "1, 2" with LOCK too. Clients (Windows,
// macOS, davfs2) read DAV before anything else.
#include <verbd/plugin.hpp>

namespace {

class DavOptionsPlugin {
 public:
  // It touches nothing but the response: the host calls it on the event loop.
  static constexpr bool never_blocks = true;

  explicit DavOptionsPlugin(verbd::Host&) {}

  void handle(const verbd::Request& request, verbd::Response& response) const {
    response.status(200);
    response.header("Allow", request.allow());
    if (serves(request.allow(), "PROPFIND"))
      response.header("DAV",
                      serves(request.allow(), "LOCK") && serves(request.allow(), "UNLOCK") ? "1, 2" : "1");
    response.header("MS-Author-Via", "DAV");
  }

 private:
  static bool serves(std::string_view allow, std::string_view method) {
    for (std::size_t at = allow.find(method); at != std::string_view::npos; at = allow.find(method, at + 1)) {
      bool starts = at == 0 || allow[at - 1] == ' ' || allow[at - 1] == ',';
      std::size_t end = at + method.size();
      if (starts && (end == allow.size() || allow[end] == ',')) return true;
    }
    return false;
  }
};

}  // namespace

VERBD_PLUGIN(DavOptionsPlugin, "dav-options", "1.0.0", "OPTIONS");
