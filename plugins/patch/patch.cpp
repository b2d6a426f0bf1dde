// PATCH (RFC 5789), with the simplest useful semantics: the body is written
// into the existing resource at the byte offset given by the Patch-Offset
// field, overwriting what is there and growing the resource if it runs past
// the end. Patch-Offset equal to the size appends.
//   204 done · 400 no or bad Patch-Offset · 404 no such resource ·
//   409 a collection · 412 If-Match not met · 416 offset past the end
// An example plugin: built into plugins-extra/, not loaded by default.
#include <verbd/http.hpp>
#include <verbd/plugin.hpp>

#include <charconv>
#include <string>

namespace {

using verbd::Entry;
using verbd::Status;

class PatchPlugin {
 public:
  explicit PatchPlugin(verbd::Host& host) : store_(host.store()) {}

  void handle(const verbd::Request& request, verbd::Response& response) const {
    auto offset = parse_offset(request.header("Patch-Offset").value_or(""));
    if (!offset) return response.status(400);
    if (request.names_collection()) return response.status(409);
    std::string bytes;
    Entry current;
    Status status = store_.read(request.path(), bytes, current);
    if (status != Status::ok) return response.status(http_status(status));
    if (auto tags = request.header("If-Match"); tags && !verbd::etag_list_matches(*tags, current.etag(), false))
      return response.status(412);
    if (*offset > bytes.size()) return response.status(416);

    bytes.replace(*offset, std::min(request.body().size(), bytes.size() - *offset), request.body());
    Entry written;
    bool created = false;
    status = store_.write(request.path(), bytes, {}, verbd::WriteMode::replace, written, created);
    if (status != Status::ok) return response.status(http_status(status));
    response.status(204);
    response.header("ETag", written.etag());
  }

 private:
  static std::optional<std::size_t> parse_offset(std::string_view text) {
    std::size_t offset = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), offset);
    if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return offset;
  }

  const verbd::Store& store_;
};

}  // namespace

VERBD_PLUGIN(PatchPlugin, "patch", "1.0.0", "PATCH");
