// PROPFIND (RFC 4918 §9.1): the properties of a resource, and of the
// members of a collection (Depth 1) or of everything below it (Depth
// infinity), in a 207 Multi-Status. The body asks for named properties
// (<prop>), every name (<propname>), or every property (<allprop>, also
// what an empty body means). Live properties come from the store's entry
// and the host's locks; dead ones from the store. An unknown property is
// 404 in its propstat.
// Settings ([plugins.propfind]): max_members = 1000 (Depth infinity on
// more is 403 propfind-finite-depth), max_xml_bytes = 1048576.
#include "dav.hpp"

#include <ctime>
#include <map>

namespace {

using verbd::Entry;
using verbd::Status;

enum class Ask { named, names, all };

class PropfindPlugin {
 public:
  explicit PropfindPlugin(verbd::Host& host)
      : store_(host.store()),
        locks_(host.locks()),
        max_members_(host.setting("max_members", 1000)),
        max_xml_bytes_(static_cast<std::size_t>(host.setting("max_xml_bytes", 1 << 20))) {}

  void handle(const verbd::Request& request, verbd::Response& response) const {
    auto depth = dav::depth_of(request, dav::Depth::infinity);
    if (!depth) return response.status(400);
    auto body = dav::body_xml(request, response, max_xml_bytes_);
    if (!body) return;
    Ask ask = Ask::all;
    std::vector<std::string> names;
    if (!body->name.empty() && !read_request(*body, ask, names)) return response.status(400);

    Entry entry;
    Status status = store_.stat(request.path(), entry);
    if (status != Status::ok) return response.status(http_status(status));
    std::string path(request.path());
    if (entry.is_collection() && path.back() != '/') path += '/';

    std::vector<std::pair<std::string, Entry>> members{{path, entry}};
    if (entry.is_collection() && *depth != dav::Depth::zero &&
        !gather(path, *depth == dav::Depth::infinity, members))
      return dav::refuse(response, 403, "propfind-finite-depth");

    std::string out = std::string(dav::xml_declaration) + "<D:multistatus xmlns:D=\"DAV:\">\n";
    for (const auto& [member, about] : members) describe(member, about, ask, names, out);
    out += "</D:multistatus>\n";
    response.status(207);
    response.header("Content-Type", dav::xml_type);
    response.append(out);
  }

 private:
  static bool read_request(const dav::Node& body, Ask& ask, std::vector<std::string>& names) {
    if (!body.is(dav::ns, "propfind")) return false;
    if (const dav::Node* prop = body.child(dav::ns, "prop")) {
      ask = Ask::named;
      for (const auto& child : prop->children)
        if (!child.name.empty()) names.push_back(dav::clark(child));
      return true;
    }
    if (body.child(dav::ns, "propname")) ask = Ask::names;
    return true;  // <allprop/>, or an element from a later extension: all
  }

  // Adds the members of `collection` (and below, when `deep`): false when
  // Depth infinity would pass max_members.
  bool gather(const std::string& collection, bool deep,
              std::vector<std::pair<std::string, Entry>>& members) const {
    std::string lines;
    if (store_.list(collection, lines) != Status::ok) return true;
    std::size_t start = 0;
    for (auto end = lines.find('\n'); end != std::string::npos;
         start = end + 1, end = lines.find('\n', start)) {
      std::string member = collection + lines.substr(start, end - start);
      Entry entry;
      if (store_.stat(member, entry) != Status::ok) continue;  // gone meanwhile
      members.emplace_back(member, entry);
      if (deep && members.size() - 1 > static_cast<std::size_t>(max_members_))
        return false;  // the first is the collection
      if (deep && entry.is_collection() && !gather(member, true, members)) return false;
    }
    return true;
  }

  // The live properties of `entry`, by name, with their XML.
  std::map<std::string, std::string> live(const std::string& path, const Entry& entry) const {
    std::map<std::string, std::string> found;
    auto add = [&](std::string_view name, std::string content) {
      found["{DAV:}" + std::string(name)] = content;
    };
    std::string_view trimmed =
        std::string_view(path).substr(0, path.size() - (entry.is_collection() ? 1 : 0));
    add("displayname", dav::escaped(trimmed.substr(trimmed.rfind('/') + 1)));
    add("resourcetype", entry.is_collection() ? "<D:collection/>" : "");
    add("getlastmodified", verbd::http_date(entry.modified_unix()));
    if (entry.created_unix() > 0) add("creationdate", rfc3339(entry.created_unix()));
    if (entry.is_resource()) {
      add("getcontentlength", std::to_string(entry.size()));
      add("getcontenttype", dav::escaped(entry.media_type()));
      add("getetag", dav::escaped(entry.etag()));
    }
    add("supportedlock",
        "<D:lockentry><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></"
        "D:lockentry>"
        "<D:lockentry><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></"
        "D:lockentry>");
    std::vector<verbd::Lock> locks;
    locks_.discover(path, locks);
    add("lockdiscovery", dav::active_locks(locks));
    return found;
  }

  void describe(const std::string& path, const Entry& entry, Ask ask, const std::vector<std::string>& names,
                std::string& out) const {
    std::map<std::string, std::string> properties = live(path, entry);
    std::vector<verbd::Property> dead;
    store_.properties(path, dead);
    for (auto& property : dead) properties.emplace(std::move(property.name), std::move(property.value));

    std::string found, missing;
    if (ask == Ask::named) {
      for (const auto& name : names) {
        auto at = properties.find(name);
        if (at == properties.end())
          missing += dav::empty_element(name);
        else
          found += render(at->first, at->second);
      }
    } else {
      for (const auto& [name, value] : properties)
        found += ask == Ask::names ? dav::empty_element(name) : render(name, value);
    }
    out += "<D:response><D:href>" + dav::href(path) + "</D:href>";
    if (!found.empty() || missing.empty())
      out += "<D:propstat><D:prop>" + found + "</D:prop><D:status>" + dav::status_line(200) +
             "</D:status></D:propstat>";
    if (!missing.empty())
      out += "<D:propstat><D:prop>" + missing + "</D:prop><D:status>" + dav::status_line(404) +
             "</D:status></D:propstat>";
    out += "</D:response>\n";
  }

  // "2026-11-27T03:55:29Z": the form of DAV:creationdate (RFC 4918 §15.1).
  static std::string rfc3339(std::int64_t unix_seconds) {
    std::time_t time = static_cast<std::time_t>(unix_seconds);
    std::tm utc{};
    gmtime_r(&time, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
  }

  // Live properties are written with the D: prefix; dead ones declare their namespace.
  static std::string render(const std::string& name, const std::string& value) {
    if (dav::is_live(name))
      return value.empty() ? "<D:" + name.substr(6) + "/>"
                           : "<D:" + name.substr(6) + ">" + value + "</D:" + name.substr(6) + ">";
    return dav::element(name, value);
  }

  const verbd::Store& store_;
  const verbd::Locks& locks_;
  std::int64_t max_members_;
  std::size_t max_xml_bytes_;
};

}  // namespace

VERBD_PLUGIN(PropfindPlugin, "propfind", "1.0.0", "PROPFIND");
