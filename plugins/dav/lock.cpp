// LOCK (RFC 4918 §9.10): takes a write lock, exclusive or shared, on a
// resource or a collection (Depth 0, or infinity: the default), in the
// host's lock table, which every method then respects; or, without a body,
// renews the lock whose token the If field names. A LOCK on a path where
// nothing is makes an empty resource there (201), as §7.3 says. 423 when a
// lock of another conflicts.
// Settings ([plugins.lock]): max_xml_bytes = 1048576.
#include "dav.hpp"

namespace {

using verbd::Status;

class LockPlugin {
 public:
  explicit LockPlugin(verbd::Host& host)
      : store_(host.store()),
        locks_(host.locks()),
        max_xml_bytes_(static_cast<std::size_t>(host.setting("max_xml_bytes", 1 << 20))) {}

  void handle(const verbd::Request& request, verbd::Response& response) const {
    auto body = dav::body_xml(request, response, max_xml_bytes_);
    if (!body) return;
    if (body->name.empty()) return refresh(request, response);
    verbd::Lock lock;
    auto depth = dav::depth_of(request, dav::Depth::infinity);
    if (!depth || *depth == dav::Depth::one || !read_lockinfo(*body, lock)) return response.status(400);
    lock.timeout_s = dav::timeout_of(request);

    verbd::Entry entry;
    Status status = store_.stat(request.path(), entry);
    bool made = false;
    if (status == Status::not_found && !request.names_collection()) {
      verbd::Entry written;
      status = store_.write(request.path(), std::string_view(), "", verbd::WriteMode::create, written, made);
    }
    if (status != Status::ok) return response.status(http_status(status));
    lock.root = request.path();
    if (entry.is_collection() && lock.root.back() != '/') lock.root += '/';
    lock.infinite = entry.is_collection() && *depth == dav::Depth::infinity;

    status = locks_.acquire(lock);
    if (status != Status::ok) {
      if (made) store_.remove(request.path());
      return response.status(http_status(status));
    }
    response.status(made ? 201 : 200);
    response.header("Lock-Token", "<" + lock.token + ">");
    answer(lock, response);
  }

 private:
  // <lockinfo><lockscope><exclusive/></lockscope><locktype><write/></locktype><owner>...</owner></lockinfo>
  static bool read_lockinfo(const dav::Node& info, verbd::Lock& lock) {
    const dav::Node* scope = info.child(dav::ns, "lockscope");
    const dav::Node* type = info.child(dav::ns, "locktype");
    if (!info.is(dav::ns, "lockinfo") || scope == nullptr || type == nullptr ||
        !type->child(dav::ns, "write"))
      return false;
    lock.exclusive = scope->child(dav::ns, "exclusive") != nullptr;
    if (!lock.exclusive && !scope->child(dav::ns, "shared")) return false;
    if (const dav::Node* owner = info.child(dav::ns, "owner")) {
      lock.owner = "<owner xmlns=\"DAV:\">";
      dav::write_content(*owner, lock.owner);
      lock.owner += "</owner>";
    }
    return true;
  }

  void refresh(const verbd::Request& request, verbd::Response& response) const {
    verbd::Lock renewed;
    for (const auto& token : dav::tokens_in(request.header("If").value_or(""))) {
      if (locks_.refresh(request.path(), token, dav::timeout_of(request), renewed) == Status::ok) {
        response.status(200);
        return answer(renewed, response);
      }
    }
    dav::refuse(response, 412, "lock-token-matches-request-uri");
  }

  static void answer(const verbd::Lock& lock, verbd::Response& response) {
    response.header("Content-Type", dav::xml_type);
    response.append(std::string(dav::xml_declaration) + "<D:prop xmlns:D=\"DAV:\"><D:lockdiscovery>" +
                    dav::active_lock(lock) + "</D:lockdiscovery></D:prop>\n");
  }

  const verbd::Store& store_;
  const verbd::Locks& locks_;
  std::size_t max_xml_bytes_;
};

}  // namespace

VERBD_PLUGIN(LockPlugin, "lock", "1.0.0", "LOCK");
