// An in-memory host for unit-testing a plugin without sockets: request in,
// response out, with a memory store and typed settings. It drives the plugin
// through its C descriptor, exactly as verbd does, and checks the response
// by verbd's rules. Header-only.
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
#include <verbd/http.hpp>
#include <verbd/memory_store.hpp>

#include <cstring>
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

struct Reply {
  int status = 200;
  Fields headers;
  std::string body;                  // empty for HEAD, as verbd sends it
  std::uint64_t content_length = 0;  // what verbd would put in Content-Length
  bool failed = false;               // handle() reported a failure: verbd answers 500
  std::string problem;               // a broken contract verbd answers 500 for, or ""

  std::string header(std::string_view name) const {
    for (const auto& [field, value] : headers)
      if (field.size() == name.size() && std::equal(field.begin(), field.end(), name.begin(),
                                                    [](char a, char b) { return (a | 0x20) == (b | 0x20); }))
        return value;
    return {};
  }
};

class TestHost {
 public:
  // Checks the descriptor and makes an instance; throws std::runtime_error
  // with the reason when verbd would refuse the plugin.
  explicit TestHost(const verbd_plugin_descriptor& plugin, std::map<std::string, Setting> settings = {})
      : plugin_(plugin), settings_(std::move(settings)) {
    if (plugin.magic != VERBD_PLUGIN_MAGIC || plugin.abi_major != VERBD_ABI_MAJOR ||
        plugin.abi_minor > VERBD_ABI_MINOR || plugin.struct_size < sizeof(verbd_plugin_descriptor))
      throw std::runtime_error("verbd would refuse this plugin: wrong magic, ABI or descriptor size");
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
    for (const auto& [name, value] : headers) raw_headers.push_back({str(name), str(value)});
    std::string query;
    verbd_request request{};
    request.struct_size = sizeof request;
    request.version = 11;
    request.method = str(method);
    request.target = str(path);
    request.path = str(path);
    request.query = str(query);
    request.headers = raw_headers.data();
    request.header_count = raw_headers.size();
    request.body = str(body);
    request.allow = str(allow_);
    Exchange exchange{*this, method == "HEAD", {}, {}};
    exchange.reply.failed =
        plugin_.handle(instance_, &request, reinterpret_cast<verbd_response*>(&exchange)) != VERBD_OK;
    exchange.reply.content_length = exchange.unread_length.value_or(exchange.reply.body.size());
    if (exchange.head) exchange.reply.body.clear();
    return exchange.reply;
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

 private:
  struct Exchange {
    TestHost& host;
    bool head;
    Reply reply;
    std::optional<std::uint64_t> unread_length;  // HEAD of a stored resource: its size, not read
  };

  static verbd_str str(std::string_view s) { return {s.data(), s.size()}; }
  static std::string_view view(verbd_str s) { return {s.data, s.size}; }
  static TestHost& self(void* context) { return *static_cast<TestHost*>(context); }
  static Exchange& exchange(verbd_response* response) { return *reinterpret_cast<Exchange*>(response); }

  verbd_host make_table() {
    for (const char* const* method = plugin_.methods; *method != nullptr; ++method)
      allow_ += (allow_.empty() ? "" : ", ") + std::string(*method);
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
                                   ": " + std::string(view(message)));
    };
    table.setting_string = [](void* context, verbd_str key, verbd_str* value) {
      return setting<std::string>(context, key, [value](const std::string& text) { *value = str(text); });
    };
    table.setting_int = [](void* context, verbd_str key, std::int64_t* value) {
      return setting<std::int64_t>(context, key, [value](std::int64_t number) { *value = number; });
    };
    table.setting_bool = [](void* context, verbd_str key, std::int32_t* value) {
      return setting<bool>(context, key, [value](bool flag) { *value = flag ? 1 : 0; });
    };
    table.store_stat = [](void* context, verbd_str path, verbd_entry* entry) {
      return std::int32_t(self(context).store_.stat(view(path), *entry));
    };
    table.store_read = [](void* context, verbd_str path, verbd_sink* sink, verbd_entry* entry) {
      std::string bytes;
      auto status = self(context).store_.read(view(path), &bytes, *entry);
      if (status == VERBD_OK) sink->append(sink->target, bytes.data(), bytes.size());
      return std::int32_t(status);
    };
    table.store_write = [](void* context, const verbd_write* write, verbd_entry* entry,
                           std::int32_t* created) {
      bool was_created = false;
      auto status =
          self(context).store_.write(view(write->path), view(write->body), view(write->media_type),
                                     static_cast<verbd_write_mode>(write->mode), *entry, was_created);
      *created = was_created ? 1 : 0;
      return std::int32_t(status);
    };
    table.store_remove = [](void* context, verbd_str path) {
      return std::int32_t(self(context).store_.remove(view(path)));
    };
    table.store_list = [](void* context, verbd_str path, verbd_sink* sink) {
      std::string lines;
      auto status = self(context).store_.list(view(path), lines);
      if (status == VERBD_OK) sink->append(sink->target, lines.data(), lines.size());
      return std::int32_t(status);
    };
    table.response_status = [](verbd_response* response, std::int32_t status) {
      Reply& reply = exchange(response).reply;
      if (!is_plugin_status(status))
        reply.problem = "status " + std::to_string(status) + " is outside 200-599";
      reply.status = status;
    };
    table.response_header = [](verbd_response* response, verbd_str name, verbd_str value) {
      Reply& reply = exchange(response).reply;
      if (std::string problem = field_problem(view(name), view(value)); !problem.empty())
        reply.problem = problem;
      reply.headers.emplace_back(view(name), view(value));
    };
    table.response_append = [](verbd_response* response, verbd_str bytes) {
      exchange(response).unread_length.reset();
      exchange(response).reply.body.append(view(bytes));
    };
    table.response_resource = [](verbd_response* response, verbd_str path, verbd_entry* entry) {
      Exchange& current = exchange(response);
      current.reply.body.clear();
      current.unread_length.reset();
      auto status =
          current.host.store_.read(view(path), current.head ? nullptr : &current.reply.body, *entry);
      if (status == VERBD_OK && current.head) current.unread_length = entry->size;
      return std::int32_t(status);
    };
    return table;
  }

  template <class T, class Give>
  static std::int32_t setting(void* context, verbd_str key, Give give) {
    auto found = self(context).settings_.find(std::string(view(key)));
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
  verbd_host table_{};
  void* instance_ = nullptr;
};

}  // namespace verbd::testing

#endif  // VERBD_TESTING_HPP
