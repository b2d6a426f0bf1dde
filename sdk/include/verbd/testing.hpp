// An in-memory host for unit-testing a plugin without sockets: request in,
// response out, with a memory store and typed settings. It drives the plugin
// through its C descriptor, exactly as verbd does, and holds it to the same
// rules (<verbd/detail/rules.hpp>, which verbd includes too): the reply is
// what verbd would send, a 500 included when the plugin breaks the contract.
// Header-only.
//
//   #include "get.cpp"                     // the plugin's source: defines verbd_plugin
//   #include <verbd/testing.hpp>
//
//   verbd::testing::TestHost host(verbd_plugin, {{"index", std::string("home.html")}});
//   host.store_resource("/a.txt", "hello");
//   verbd::testing::Reply reply = host.request("GET", "/a.txt");
//   assert(reply.status == 200 && reply.body == "hello");
//
// Paths given to request() must be clean (as verbd hands them to plugins).
#ifndef VERBD_TESTING_HPP
#define VERBD_TESTING_HPP

#include <verbd/plugin.h>
#include <verbd/detail/rules.hpp>
#include <verbd/detail/text.hpp>
#include <verbd/memory_store.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace verbd::testing {

using Setting = std::variant<std::string, std::int64_t, bool>;
using Fields = std::vector<std::pair<std::string, std::string>>;

// The response as verbd would send it.
struct Reply {
  int status = 200;
  // The fields the plugin set, and the Content-Type verbd adds to a body
  // without one; not Date, Server, Content-Length or Connection, which verbd
  // adds on the wire, nor Accept-Ranges: after the plugin, verbd serves the
  // parts a GET's Range asks of a resource (response_resource), which this
  // host does not (the reply is the plugin's whole answer).
  Fields headers;
  std::string body;                  // empty for HEAD, 204 and 304, as verbd sends it
  std::uint64_t content_length = 0;  // what verbd puts in Content-Length (0 for 204 and 304)
  bool failed = false;               // handle() reported a failure: the reply is verbd's 500
  std::string problem;               // the broken contract that made the reply a 500, or ""
  // A body sent with response_send: its pieces as sent (what was appended
  // before the first included in it), and whether verbd would have cut it
  // short (handle() failed or broke the contract after the head had gone;
  // `status` and `headers` are then those that went).
  bool streamed = false;
  std::vector<std::string> pieces;
  bool cut_short = false;

  std::string header(std::string_view name) const {
    for (const auto& [field, value] : headers)
      if (detail::iequals(field, name)) return value;
    return {};
  }
};

class TestHost {
 public:
  // Checks the descriptor and makes an instance; throws std::runtime_error
  // with verbd's reason when verbd would refuse the plugin.
  explicit TestHost(const verbd_plugin_descriptor& plugin, std::map<std::string, Setting> settings = {})
      : plugin_(plugin), settings_(std::move(settings)) {
    if (std::string problem = detail::descriptor_problem(plugin); !problem.empty())
      throw std::runtime_error("verbd would refuse this plugin: " + problem);
    for (const char* const* method = plugin.methods; *method != nullptr; ++method)
      allow_ += (allow_.empty() ? "" : ", ") + std::string(*method);
    table_ = make_table();
    char error[512] = {};
    if (plugin.create(&table_, &instance_, error, sizeof error) != VERBD_OK)
      throw std::runtime_error(std::string("the plugin's factory failed: ") + error);
  }
  ~TestHost() {
    if (instance_ != nullptr) plugin_.destroy(instance_);
  }
  TestHost(const TestHost&) = delete;
  TestHost& operator=(const TestHost&) = delete;

  Reply request(std::string method, std::string path, std::string body = {}, Fields headers = {}) {
    std::vector<verbd_header> raw_headers;
    for (const auto& [name, value] : headers) raw_headers.push_back({detail::str(name), detail::str(value)});
    verbd_request request{};
    request.struct_size = sizeof request;
    request.version = 11;
    request.method = detail::str(method);
    request.target = detail::str(path);
    request.path = detail::str(path);
    request.query = detail::str({});
    request.headers = raw_headers.data();
    request.header_count = raw_headers.size();
    // A body over body_in_memory_bytes is not in `body`, as in verbd: the
    // plugin reads it through content_read, or stores it through its content.
    bool large = body.size() > body_in_memory_bytes_;
    request.body = detail::str(large ? std::string_view() : std::string_view(body));
    request.allow = detail::str(allow_);
    request.body_size = body.size();
    request.content = reinterpret_cast<const verbd_content*>(&body);
    Draft draft{*this, method == "HEAD"};
    draft.room_for_pieces = pieces_taken_;
    if (large && plugin_.abi_minor < 2) {  // verbd does not call an older plugin with such a body
      draft.status = 413;
      return finish(draft, false);
    }
    bool failed = plugin_.handle(instance_, &request, reinterpret_cast<verbd_response*>(&draft)) != VERBD_OK;
    return finish(draft, failed);
  }

  // Puts a resource in the store, as if a client had PUT it.
  void store_resource(std::string_view path, std::string_view bytes, std::string_view media_type = {}) {
    verbd_entry entry{};
    bool created = false;
    if (store_.write(path, bytes, media_type, VERBD_WRITE_REPLACE, entry, created) != VERBD_OK)
      throw std::invalid_argument("cannot store " + std::string(path));
  }

  MemoryStore& store() { return store_; }
  // What the plugin logged, one line each, prefixed with the level.
  const std::vector<std::string>& log() const { return log_; }
  // The Allow value request() hands the plugin (default: the plugin's own methods).
  void set_allow(std::string allow) { allow_ = std::move(allow); }
  // request() hands a larger body as verbd hands one it spooled to a file:
  // not in verbd_request.body, only through verbd_request.content (verbd's
  // [limits] body_in_memory_bytes; here no body is large by default).
  void set_body_in_memory_bytes(std::size_t bytes) { body_in_memory_bytes_ = bytes; }
  // request() takes this many pieces of a body sent with response_send, then
  // answers VERBD_CLIENT_GONE, as verbd does when the client has gone.
  void set_client_gone_after(std::size_t pieces) { pieces_taken_ = pieces; }

 private:
  // The response as the plugin builds it, before verbd's rules finish it.
  struct Draft {
    Draft(TestHost& owner, bool answers_head) : host(owner), head(answers_head) {}
    TestHost& host;
    bool head;
    int status = 200;
    Fields fields;
    std::string body;
    std::optional<std::uint64_t> unread_length;  // HEAD of a stored resource: its size, not read, before body
    std::string problem;                         // the first contract the plugin broke
    bool streaming = false, dropping = false;    // response_send: the head has gone; HEAD, 204, 304
    std::vector<std::string> pieces;
    std::size_t room_for_pieces = SIZE_MAX;
  };

  static TestHost& self(void* context) { return *static_cast<TestHost*>(context); }
  static bool has_field(const Fields& fields, std::string_view name) {
    for (const auto& field : fields)
      if (detail::iequals(field.first, name)) return true;
    return false;
  }
  static Draft& draft(verbd_response* response) { return *reinterpret_cast<Draft*>(response); }

  // What verbd makes of the draft: its 500 for a failure or a broken
  // contract, an error page for an empty error, the default media type.
  static Reply finish(Draft& draft, bool failed) {
    if (draft.streaming) return finish_streamed(draft, failed);
    Reply reply;
    reply.failed = failed;
    reply.problem = failed ? std::string() : draft.problem;
    if (failed || !draft.problem.empty()) {
      draft.fields.clear();
      draft.body.clear();
      draft.unread_length.reset();
      draft.status = 500;
      std::string_view why = failed ? detail::plugin_failed : detail::plugin_broke_contract;
      detail::append_error_page(draft.body, 500, why);
      draft.fields.emplace_back("Content-Type", detail::error_page_media_type);
    }
    bool typed = has_field(draft.fields, "Content-Type");
    std::uint64_t length = draft.unread_length.value_or(0) + draft.body.size();
    if (detail::wants_error_page(draft.status, length, typed)) {
      detail::append_error_page(draft.body, draft.status, {});
      draft.fields.emplace_back("Content-Type", detail::error_page_media_type);
      length = draft.body.size();
      typed = true;
    }
    bool content = detail::status_allows_content(draft.status);
    if (content && length > 0 && !typed)
      draft.fields.emplace_back("Content-Type", detail::default_media_type);
    reply.status = draft.status;
    reply.headers = std::move(draft.fields);
    reply.content_length = content ? length : 0;
    if (content && !draft.head) reply.body = std::move(draft.body);
    return reply;
  }

  // What went before the plugin returned stays: verbd can only cut it short.
  static Reply finish_streamed(Draft& draft, bool failed) {
    Reply reply;
    reply.failed = failed;
    reply.problem = draft.problem;
    reply.streamed = true;
    reply.cut_short = failed || !draft.problem.empty();
    reply.status = draft.status;
    reply.headers = std::move(draft.fields);
    if (!has_field(reply.headers, "Content-Type"))
      reply.headers.emplace_back("Content-Type", detail::default_media_type);
    for (const auto& piece : draft.pieces) reply.body += piece;
    reply.pieces = std::move(draft.pieces);
    return reply;
  }

  // As verbd: after the head has gone, only more pieces may follow.
  static bool refused_after_head(Draft& current, const char* service) {
    if (!current.streaming && !current.dropping) return false;
    if (current.problem.empty())
      current.problem = std::string(service) + " after response_send had sent the head";
    return true;
  }

  static std::int32_t send_piece(Draft& current, std::string_view bytes) {
    if (!current.problem.empty() && !current.streaming) return VERBD_CLIENT_GONE;
    if (current.dropping) return VERBD_OK;
    if (!current.streaming) {
      if (current.head || !detail::status_allows_content(current.status)) {
        current.dropping = true;
        return VERBD_OK;
      }
      if (current.host.refused_as_blocking("response_send")) return VERBD_WOULD_BLOCK;
      if (current.unread_length) {
        current.problem = "response_send after response_resource or response_file";
        return VERBD_CLIENT_GONE;
      }
      current.streaming = true;
      if (!current.body.empty()) current.pieces.push_back(std::move(current.body));
    }
    if (current.pieces.size() >= current.room_for_pieces) return VERBD_CLIENT_GONE;
    if (!bytes.empty()) current.pieces.emplace_back(bytes);
    return VERBD_OK;
  }

  // As verbd: a plugin that declared VERBD_PLUGIN_NEVER_BLOCKS may not write.
  bool refused_as_blocking(const char* service) {
    if ((detail::descriptor_flags(plugin_) & VERBD_PLUGIN_NEVER_BLOCKS) == 0) return false;
    log_.push_back(std::string("error: ") + service + " refused (VERBD_WOULD_BLOCK): the plugin declared " +
                   "VERBD_PLUGIN_NEVER_BLOCKS");
    return true;
  }

  verbd_host make_table() {
    verbd_host table{};
    table.struct_size = sizeof table;
    table.abi_major = VERBD_ABI_MAJOR;
    table.abi_minor = VERBD_ABI_MINOR;
    table.context = this;
    table.log = [](void* context, std::int32_t level, verbd_str message) {
      static const char* const names[] = {"trace", "debug", "info", "warn", "error"};
      self(context).log_.push_back(std::string(names[level < 0   ? 0
                                                     : level > 4 ? 4
                                                                 : level]) +
                                   ": " + std::string(detail::view(message)));
    };
    table.setting_string = [](void* context, verbd_str key, verbd_str* value) {
      return setting<std::string>(context, key,
                                  [value](const std::string& text) { *value = detail::str(text); });
    };
    table.setting_int = [](void* context, verbd_str key, std::int64_t* value) {
      return setting<std::int64_t>(context, key, [value](std::int64_t number) { *value = number; });
    };
    table.setting_bool = [](void* context, verbd_str key, std::int32_t* value) {
      return setting<bool>(context, key, [value](bool flag) { *value = flag ? 1 : 0; });
    };
    table.store_stat = [](void* context, verbd_str path, verbd_entry* entry) -> std::int32_t {
      if (!detail::is_usable(entry)) return VERBD_BAD_ARGUMENT;
      verbd_entry full{};
      auto status = self(context).store_.stat(detail::view(path), full);
      detail::give_entry(full, *entry);
      return status;
    };
    table.store_read = [](void* context, verbd_str path, const verbd_sink* sink,
                          verbd_entry* entry) -> std::int32_t {
      if (!detail::is_usable(entry) || !detail::is_usable(sink)) return VERBD_BAD_ARGUMENT;
      std::string bytes;
      verbd_entry full{};
      auto status = self(context).store_.read(detail::view(path), &bytes, full);
      detail::give_entry(full, *entry);
      if (status != VERBD_OK) return status;
      return sink->append(sink->target, bytes.data(), bytes.size());
    };
    table.store_write = [](void* context, const verbd_write* write, verbd_entry* entry,
                           std::int32_t* created) -> std::int32_t {
      if (!detail::is_usable(write) || !detail::is_usable(entry) || created == nullptr)
        return VERBD_BAD_ARGUMENT;
      if (self(context).refused_as_blocking("store_write")) return VERBD_WOULD_BLOCK;
      bool was_created = false;
      verbd_entry full{};
      const verbd_content* content = detail::write_content(*write);
      std::string_view body = content != nullptr ? body_of(content) : detail::view(write->body);
      auto status =
          self(context).store_.write(detail::view(write->path), body, detail::view(write->media_type),
                                     static_cast<verbd_write_mode>(write->mode), full, was_created);
      detail::give_entry(full, *entry);
      *created = was_created ? 1 : 0;
      return status;
    };
    table.store_remove = [](void* context, verbd_str path) -> std::int32_t {
      if (self(context).refused_as_blocking("store_remove")) return VERBD_WOULD_BLOCK;
      return self(context).store_.remove(detail::view(path));
    };
    table.store_list = [](void* context, verbd_str path, const verbd_sink* sink) -> std::int32_t {
      if (!detail::is_usable(sink)) return VERBD_BAD_ARGUMENT;
      std::string lines;
      auto status = self(context).store_.list(detail::view(path), lines);
      if (status != VERBD_OK) return status;
      return sink->append(sink->target, lines.data(), lines.size());
    };
    table.response_status = [](verbd_response* response, std::int32_t status) {
      Draft& current = draft(response);
      if (refused_after_head(current, "response_status")) return;
      if (detail::is_plugin_status(status))
        current.status = status;
      else if (current.problem.empty())
        current.problem = detail::status_problem(status);
    };
    table.response_header = [](verbd_response* response, verbd_str name, verbd_str value) {
      Draft& current = draft(response);
      if (refused_after_head(current, "response_header")) return;
      if (detail::is_plugin_field(detail::view(name), detail::view(value)))
        current.fields.emplace_back(detail::view(name), detail::view(value));
      else if (current.problem.empty())
        current.problem = detail::field_problem(detail::view(name), detail::view(value));
    };
    table.response_append = [](verbd_response* response, verbd_str bytes) {
      if (refused_after_head(draft(response), "response_append")) return;
      draft(response).body.append(detail::view(bytes));
    };
    table.response_resource = [](verbd_response* response, verbd_str path,
                                 verbd_entry* entry) -> std::int32_t {
      if (!detail::is_usable(entry)) return VERBD_BAD_ARGUMENT;
      Draft& current = draft(response);
      if (refused_after_head(current, "response_resource")) return VERBD_BAD_ARGUMENT;
      current.body.clear();
      current.unread_length.reset();
      verbd_entry full{};
      auto status =
          current.host.store_.read(detail::view(path), current.head ? nullptr : &current.body, full);
      detail::give_entry(full, *entry);
      if (status == VERBD_OK && current.head) current.unread_length = full.size;
      if (status != VERBD_OK) current.body.clear();
      return status;
    };
    table.content_read = [](const verbd_content* content, std::uint64_t offset, char* buffer,
                            std::size_t capacity, std::size_t* got) -> std::int32_t {
      if (content == nullptr || got == nullptr || (buffer == nullptr && capacity > 0))
        return VERBD_BAD_ARGUMENT;
      std::string_view body = body_of(content);
      *got = offset < body.size() ? body.copy(buffer, capacity, static_cast<std::size_t>(offset)) : 0;
      return VERBD_OK;
    };
    table.response_send = [](verbd_response* response, verbd_str bytes) -> std::int32_t {
      return send_piece(draft(response), detail::view(bytes));
    };
    // Here the file is read into the body; verbd sends it with sendfile.
    table.response_file = [](verbd_response* response, int fd) -> std::int32_t {
      Draft& current = draft(response);
      std::string bytes;
      bool regular = read_file(fd, bytes);
      if (fd >= 0) ::close(fd);
      if (refused_after_head(current, "response_file")) return VERBD_BAD_ARGUMENT;
      if (!regular) return VERBD_BAD_ARGUMENT;
      current.body.clear();
      current.unread_length.reset();
      if (current.head)
        current.unread_length = bytes.size();
      else
        current.body = std::move(bytes);
      return VERBD_OK;
    };
    add_webdav_services(table);
    return table;
  }

  // (1.4) The store's WebDAV services, on the memory store. The test host
  // keeps no lock table and evaluates no If field: the lock services answer
  // VERBD_IO_ERROR; test locks through verbd itself.
  static void add_webdav_services(verbd_host& table) {
    table.store_make_collection = [](void* context, verbd_str path) -> std::int32_t {
      return self(context).store_.make_collection(detail::view(path));
    };
    table.store_copy = [](void* context, verbd_str from, verbd_str to, std::uint32_t flags,
                          std::int32_t* created) -> std::int32_t {
      return transfer(context, from, to, flags, created, false);
    };
    table.store_move = [](void* context, verbd_str from, verbd_str to, std::uint32_t flags,
                          std::int32_t* created) -> std::int32_t {
      return transfer(context, from, to, flags, created, true);
    };
    table.store_properties = [](void* context, verbd_str path,
                                const verbd_property_sink* sink) -> std::int32_t {
      if (!detail::is_usable(sink)) return VERBD_BAD_ARGUMENT;
      std::map<std::string, std::string> properties;
      auto status = self(context).store_.properties(detail::view(path), properties);
      for (const auto& [name, value] : properties) {
        if (status != VERBD_OK) break;
        verbd_property property{detail::str(name), detail::str(value)};
        status = static_cast<verbd_status>(sink->take(sink->target, &property));
      }
      return status;
    };
    table.store_change_properties = [](void* context, verbd_str path, const verbd_property_change* changes,
                                       std::size_t count) -> std::int32_t {
      return self(context).store_.change_properties(detail::view(path), changes, count);
    };
    table.lock_acquire = [](void*, verbd_lock*) -> std::int32_t { return VERBD_IO_ERROR; };
    table.lock_refresh = [](void*, verbd_str, verbd_str, std::int64_t,
                            const verbd_lock_sink*) -> std::int32_t { return VERBD_IO_ERROR; };
    table.lock_release = [](void*, verbd_str, verbd_str) -> std::int32_t { return VERBD_IO_ERROR; };
    table.lock_discover = [](void*, verbd_str, const verbd_lock_sink*) -> std::int32_t { return VERBD_OK; };
  }

  static std::int32_t transfer(void* context, verbd_str from, verbd_str to, std::uint32_t flags,
                               std::int32_t* created, bool move) {
    if (created == nullptr) return VERBD_BAD_ARGUMENT;
    bool was_created = false;
    auto status =
        self(context).store_.transfer(detail::view(from), detail::view(to), flags, move, was_created);
    *created = was_created ? 1 : 0;
    return status;
  }

  // The whole of a regular file, from its start.
  static bool read_file(int fd, std::string& bytes) {
    struct stat about {};
    if (fd < 0 || ::fstat(fd, &about) != 0 || !S_ISREG(about.st_mode)) return false;
    char buffer[65536];
    for (off_t at = 0;;) {
      ssize_t n = ::pread(fd, buffer, sizeof buffer, at);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return false;
      if (n == 0) return true;
      bytes.append(buffer, static_cast<std::size_t>(n));
      at += n;
    }
  }

  // Here a verbd_content is the std::string request() was given.
  static std::string_view body_of(const verbd_content* content) {
    return *reinterpret_cast<const std::string*>(content);
  }

  template <class T, class Give>
  static std::int32_t setting(void* context, verbd_str key, Give give) {
    auto found = self(context).settings_.find(std::string(detail::view(key)));
    if (found == self(context).settings_.end()) return VERBD_NOT_FOUND;
    const T* value = std::get_if<T>(&found->second);
    if (value == nullptr) return VERBD_BAD_ARGUMENT;
    give(*value);
    return VERBD_OK;
  }

  const verbd_plugin_descriptor& plugin_;
  std::map<std::string, Setting> settings_;
  MemoryStore store_;
  std::vector<std::string> log_;
  std::string allow_;
  std::size_t body_in_memory_bytes_ = SIZE_MAX;
  std::size_t pieces_taken_ = SIZE_MAX;
  verbd_host table_{};
  void* instance_ = nullptr;
};

}  // namespace verbd::testing

#endif  // VERBD_TESTING_HPP
