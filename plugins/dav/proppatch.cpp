// PROPPATCH (RFC 4918 §9.2): sets and removes dead properties, in document
// order, all or none, and says how each went in a 207 Multi-Status. A live
// property (one the store computes) cannot be changed: 403 for it, and 424
// for the others, which are then not changed either.
// Settings ([plugins.proppatch]): max_xml_bytes = 1048576.
#include "dav.hpp"

namespace {

using verbd::Entry;
using verbd::Status;

class ProppatchPlugin {
 public:
  explicit ProppatchPlugin(verbd::Host& host)
      : store_(host.store()),
        max_xml_bytes_(static_cast<std::size_t>(host.setting("max_xml_bytes", 1 << 20))) {}

  void handle(const verbd::Request& request, verbd::Response& response) const {
    Entry entry;
    Status status = store_.stat(request.path(), entry);
    if (status != Status::ok) return response.status(http_status(status));
    auto body = dav::body_xml(request, response, max_xml_bytes_);
    if (!body) return;
    std::vector<verbd::PropertyChange> changes;
    if (!body->is(dav::ns, "propertyupdate") || !read_changes(*body, changes)) return response.status(400);

    bool protected_one = false;
    for (const auto& change : changes) protected_one = protected_one || dav::is_live(change.name);
    int outcome = 200;
    if (protected_one) {
      outcome = 424;
    } else if (Status changed = store_.change_properties(request.path(), changes); changed != Status::ok) {
      if (changed != Status::no_space) return response.status(http_status(changed));
      outcome = 507;
    }

    std::string path(request.path());
    if (entry.is_collection() && path.back() != '/') path += '/';
    std::string out = std::string(dav::xml_declaration) +
                      "<D:multistatus xmlns:D=\"DAV:\"><D:response><D:href>" + dav::href(path) + "</D:href>";
    for (const auto& change : changes) {
      int each = outcome == 424 && dav::is_live(change.name) ? 403 : outcome;
      out += "<D:propstat><D:prop>" + dav::empty_element(change.name) + "</D:prop><D:status>" +
             dav::status_line(each) + "</D:status></D:propstat>";
    }
    out += "</D:response></D:multistatus>\n";
    response.status(207);
    response.header("Content-Type", dav::xml_type);
    response.append(out);
  }

 private:
  // <set> and <remove>, each with a <prop> of one or more properties.
  static bool read_changes(const dav::Node& update, std::vector<verbd::PropertyChange>& changes) {
    for (const auto& action : update.children) {
      bool set = action.is(dav::ns, "set");
      if (!set && !action.is(dav::ns, "remove")) continue;
      const dav::Node* prop = action.child(dav::ns, "prop");
      if (prop == nullptr) return false;
      for (const auto& property : prop->children) {
        if (property.name.empty()) continue;
        verbd::PropertyChange change{dav::clark(property), {}, !set};
        if (set) dav::write_content(property, change.value);
        changes.push_back(std::move(change));
      }
    }
    return !changes.empty();
  }

  const verbd::Store& store_;
  std::size_t max_xml_bytes_;
};

}  // namespace

VERBD_PLUGIN(ProppatchPlugin, "proppatch", "1.0.0", "PROPPATCH");
