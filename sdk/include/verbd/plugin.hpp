// The C++ layer over <verbd/plugin.h>: what a plugin author writes against.
//
// A plugin is one class with a constructor taking `verbd::Host&` and a
// member `void handle(const verbd::Request&, verbd::Response&)`, exported
// with one line:
//
//     VERBD_PLUGIN(EchoPlugin, "echo", "1.0.0", "ECHO");
//
// Header-only. Exceptions thrown by the class are caught at the C boundary:
// from the constructor they refuse the plugin with the exception's text,
// from handle() they make the host answer 500 and log the text. Nothing
// here throws across the boundary: host callbacks into this layer (sinks)
// report failure as a status.
//
// Thread-safety: the host calls handle() from several threads at once on
// one instance. Keep the class free of mutable state, or guard it.
//
// Blocking: handle() may block (a database call, a remote API, a long
// computation): it runs on a pool thread, and the server goes on serving
// other connections meanwhile. A plugin whose handle() never waits may say
// so with one member, and is then called on the event loop itself, which is
// faster (see VERBD_PLUGIN_NEVER_BLOCKS in <verbd/plugin.h>):
//
//     static constexpr bool never_blocks = true;
#ifndef VERBD_PLUGIN_HPP
#define VERBD_PLUGIN_HPP

#include <verbd/plugin.h>
#include <verbd/detail/text.hpp>

#include <cstdint>
#include <cstring>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace verbd {

enum class Status : std::int32_t {
  ok = VERBD_OK,
  not_found = VERBD_NOT_FOUND,
  is_collection = VERBD_IS_COLLECTION,
  not_collection = VERBD_NOT_COLLECTION,
  exists = VERBD_EXISTS,
  no_space = VERBD_NO_SPACE,
  denied = VERBD_DENIED,
  bad_argument = VERBD_BAD_ARGUMENT,
  io_error = VERBD_IO_ERROR,
  no_memory = VERBD_NO_MEMORY,
  would_block = VERBD_WOULD_BLOCK,
  client_gone = VERBD_CLIENT_GONE,
  locked = VERBD_LOCKED,
  no_parent = VERBD_NO_PARENT,
};

// The HTTP status that answers a failed store call, the same in every plugin.
inline int http_status(Status s) noexcept {
  switch (s) {
    case Status::ok:
      return 200;
    case Status::not_found:
      return 404;
    case Status::is_collection:
    case Status::not_collection:
    case Status::exists:
    case Status::no_parent:
      return 409;
    case Status::locked:
      return 423;
    case Status::denied:
      return 403;
    case Status::no_space:
      return 507;
    case Status::bad_argument:
      return 400;
    case Status::io_error:
    case Status::no_memory:
    case Status::would_block:
    case Status::client_gone:
      return 500;
  }
  return 500;
}

// What the store knows about one path.
class Entry {
 public:
  bool exists() const noexcept { return raw_.kind != VERBD_ENTRY_NONE; }
  bool is_resource() const noexcept { return raw_.kind == VERBD_ENTRY_RESOURCE; }
  bool is_collection() const noexcept { return raw_.kind == VERBD_ENTRY_COLLECTION; }
  std::uint64_t size() const noexcept { return raw_.size; }
  std::int64_t modified_unix() const noexcept { return raw_.modified_unix; }
  // When it was made; 0 when the store cannot tell (1.4).
  std::int64_t created_unix() const noexcept { return raw_.created_unix; }
  std::string_view etag() const noexcept { return raw_.etag; }
  std::string_view media_type() const noexcept { return raw_.media_type; }
  verbd_entry* raw() noexcept { return &raw_; }

 private:
  static verbd_entry sized() noexcept {
    verbd_entry raw{};
    raw.struct_size = sizeof raw;
    return raw;
  }

  verbd_entry raw_ = sized();
};

// Thrown by Request::body() when the body is too large to be held in memory
// ([limits] body_in_memory_bytes); the plugin's client then gets 413. Use
// Request::content() for such a body.
class BodyNotInMemory : public std::length_error {
 public:
  BodyNotInMemory()
      : std::length_error(
            "the request body is larger than limits.body_in_memory_bytes, and this plugin reads only "
            "bodies held in memory") {}
};

// The request body (RFC 9110 calls it the content), wherever the host keeps
// it: in memory or, when it is large, in a file. Store it whole with
// Store::write(path, request.content(), ...), which moves a file without
// copying it, or read it in pieces:
//
//     char piece[65536];
//     std::size_t got = 0;
//     for (std::uint64_t at = 0; at < content.size(); at += got)
//       if (content.read(at, piece, sizeof piece, got) != Status::ok || got == 0) break;
class Content {
 public:
  Content(const verbd_host& host, const verbd_request& raw) noexcept : host_(host), raw_(raw) {}
  std::uint64_t size() const noexcept { return raw_.body_size; }
  // Whether Request::body() has it all.
  bool in_memory() const noexcept { return raw_.body_size == raw_.body.size; }
  // Copies up to `capacity` bytes from byte `offset` into `buffer`; `got`
  // says how many (0 at the end).
  Status read(std::uint64_t offset, char* buffer, std::size_t capacity, std::size_t& got) const noexcept {
    return Status(host_.content_read(raw_.content, offset, buffer, capacity, &got));
  }
  const verbd_content* raw() const noexcept { return raw_.content; }

 private:
  const verbd_host& host_;
  const verbd_request& raw_;
};

class Request {
 public:
  Request(const verbd_request& raw, const verbd_host& host) noexcept : raw_(raw), host_(host) {}
  std::string_view method() const noexcept { return detail::view(raw_.method); }
  std::string_view target() const noexcept { return detail::view(raw_.target); }
  std::string_view path() const noexcept { return detail::view(raw_.path); }
  std::string_view query() const noexcept { return detail::view(raw_.query); }
  // The whole body, when it is held in memory; throws BodyNotInMemory when
  // it is not (see content()).
  std::string_view body() const {
    if (raw_.body_size > raw_.body.size) throw BodyNotInMemory();
    return detail::view(raw_.body);
  }
  // The body, large or small.
  Content content() const noexcept { return Content(host_, raw_); }
  // The methods this server serves for this request, as an Allow field lists them.
  std::string_view allow() const noexcept { return detail::view(raw_.allow); }
  int version() const noexcept { return raw_.version; }
  // The Destination field as a clean path (COPY, MOVE), or empty.
  std::string_view destination() const noexcept { return detail::view(raw_.destination); }
  bool names_collection() const noexcept { return !path().empty() && path().back() == '/'; }

  // The first field with this name (any case), or nothing.
  std::optional<std::string_view> header(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < raw_.header_count; ++i)
      if (detail::iequals(detail::view(raw_.headers[i].name), name))
        return detail::view(raw_.headers[i].value);
    return std::nullopt;
  }

 private:
  const verbd_request& raw_;
  const verbd_host& host_;
};

namespace detail {
// A sink into a std::string. Called by the host: it must not throw.
inline std::int32_t append_to_string(void* target, const char* data, std::size_t size) noexcept {
  try {
    static_cast<std::string*>(target)->append(data, size);
    return VERBD_OK;
  } catch (...) {  // bad_alloc, or length_error: more than a string can hold
    return VERBD_NO_MEMORY;
  }
}

inline verbd_sink string_sink(std::string& bytes) noexcept {
  return verbd_sink{sizeof(verbd_sink), &bytes, &append_to_string};
}

template <class>
inline constexpr bool always_false = false;
}  // namespace detail

class Response {
 public:
  Response(const verbd_host& host, verbd_response* raw) noexcept : host_(host), raw_(raw) {}
  void status(int code) noexcept { host_.response_status(raw_, code); }
  void header(std::string_view name, std::string_view value) noexcept {
    host_.response_header(raw_, detail::str(name), detail::str(value));
  }
  void append(std::string_view bytes) noexcept { host_.response_append(raw_, detail::str(bytes)); }
  // Sends the stored resource at `path` as the body; `entry` describes it.
  // To a GET answered 200 with it alone, verbd serves the parts a Range asks.
  Status resource(std::string_view path, Entry& entry) noexcept {
    return Status(host_.response_resource(raw_, detail::str(path), entry.raw()));
  }
  // Sends `bytes` now as the next piece of a body made while it is sent:
  // the first call sends the status and fields set so far, which cannot
  // change after it (response_send in <verbd/plugin.h>). Anything but
  // Status::ok means nobody takes more: return.
  //
  //     for (const auto& row : rows)
  //       if (response.send(format(row)) != verbd::Status::ok) return;
  Status send(std::string_view bytes) noexcept {
    return Status(host_.response_send(raw_, detail::str(bytes)));
  }
  // Makes the open file `fd` the body, from its start to its size now: for
  // a file the plugin made. The host owns `fd` from here on and closes it.
  Status file(int fd) noexcept { return Status(host_.response_file(raw_, fd)); }

 private:
  const verbd_host& host_;
  verbd_response* raw_;
};

// A dead property (WebDAV): its name in Clark notation, "{namespace}local",
// and its value, the XML inside the property's element.
struct Property {
  std::string name;
  std::string value;
};

struct PropertyChange {
  std::string name;
  std::string value;
  bool remove = false;  // remove it, rather than set it to `value`
};

// How store copies and moves treat what is at the destination, and a
// collection's members (Overwrite and Depth, RFC 4918 §10.6, §10.2).
struct Transfer {
  bool overwrite = false;
  bool shallow = false;  // copy a collection without its members (Depth: 0)
  std::uint32_t flags() const noexcept {
    return (overwrite ? VERBD_TRANSFER_OVERWRITE : 0u) | (shallow ? VERBD_TRANSFER_SHALLOW : 0u);
  }
};

namespace detail {
inline std::int32_t take_property(void* target, const verbd_property* property) noexcept {
  try {
    static_cast<std::vector<Property>*>(target)->push_back(
        {std::string(view(property->name)), std::string(view(property->value))});
    return VERBD_OK;
  } catch (...) {
    return VERBD_NO_MEMORY;
  }
}
}  // namespace detail

enum class WriteMode : std::int32_t {
  replace = VERBD_WRITE_REPLACE,
  append = VERBD_WRITE_APPEND,
  create = VERBD_WRITE_CREATE,
};

class Store {
 public:
  explicit Store(const verbd_host& host) noexcept : host_(host) {}

  Status stat(std::string_view path, Entry& entry) const noexcept {
    return Status(host_.store_stat(host_.context, detail::str(path), entry.raw()));
  }
  // Appends the resource's bytes to `bytes`.
  Status read(std::string_view path, std::string& bytes, Entry& entry) const noexcept {
    verbd_sink sink = detail::string_sink(bytes);
    return Status(host_.store_read(host_.context, detail::str(path), &sink, entry.raw()));
  }
  // `created` tells whether the path named nothing before the write.
  Status write(std::string_view path, std::string_view body, std::string_view media_type, WriteMode mode,
               Entry& entry, bool& created) const noexcept {
    return write(path, body, nullptr, media_type, mode, entry, created);
  }
  // Writes the request body, however large: a body the host holds in a
  // file becomes the stored file itself where the store can, without a copy.
  Status write(std::string_view path, const Content& content, std::string_view media_type, WriteMode mode,
               Entry& entry, bool& created) const noexcept {
    return write(path, {}, content.raw(), media_type, mode, entry, created);
  }
  Status remove(std::string_view path) const noexcept {
    return Status(host_.store_remove(host_.context, detail::str(path)));
  }
  // Appends one member a line, "name/" for a collection.
  Status list(std::string_view path, std::string& lines) const noexcept {
    verbd_sink sink = detail::string_sink(lines);
    return Status(host_.store_list(host_.context, detail::str(path), &sink));
  }

  // WebDAV (1.4). A new collection ("/a/b/") whose parent exists.
  Status make_collection(std::string_view path) const noexcept {
    return Status(host_.store_make_collection(host_.context, detail::str(path)));
  }
  // `to` names the same kind as `from`: both end in '/', or neither.
  Status copy(std::string_view from, std::string_view to, Transfer how, bool& created) const noexcept {
    return transfer(host_.store_copy, from, to, how, created);
  }
  Status move(std::string_view from, std::string_view to, Transfer how, bool& created) const noexcept {
    return transfer(host_.store_move, from, to, how, created);
  }
  // Appends the dead properties of `path`, by name.
  Status properties(std::string_view path, std::vector<Property>& properties) const noexcept {
    verbd_property_sink sink{sizeof sink, &properties, &detail::take_property};
    return Status(host_.store_properties(host_.context, detail::str(path), &sink));
  }
  // All of them, in order, or none.
  Status change_properties(std::string_view path, const std::vector<PropertyChange>& changes) const {
    std::vector<verbd_property_change> raw;
    raw.reserve(changes.size());
    for (const auto& change : changes)
      raw.push_back({{detail::str(change.name), detail::str(change.value)}, change.remove ? 1 : 0});
    return Status(host_.store_change_properties(host_.context, detail::str(path), raw.data(), raw.size()));
  }

 private:
  Status write(std::string_view path, std::string_view body, const verbd_content* content,
               std::string_view media_type, WriteMode mode, Entry& entry, bool& created) const noexcept {
    verbd_write w{sizeof(verbd_write), std::int32_t(mode),      detail::str(path),
                  detail::str(body),   detail::str(media_type), content};
    std::int32_t was_created = 0;
    auto s = Status(host_.store_write(host_.context, &w, entry.raw(), &was_created));
    created = was_created != 0;
    return s;
  }

  // store_copy or store_move, which take the same arguments.
  using TransferService = decltype(verbd_host::store_copy);
  Status transfer(TransferService service, std::string_view from, std::string_view to, Transfer how,
                  bool& created) const noexcept {
    std::int32_t was_created = 0;
    auto s = Status(service(host_.context, detail::str(from), detail::str(to), how.flags(), &was_created));
    created = was_created != 0;
    return s;
  }

  const verbd_host& host_;
};

// A WebDAV write lock (1.4; see verbd_lock in <verbd/plugin.h>).
struct Lock {
  std::string root;  // the path locked
  bool exclusive = true;
  bool infinite = false;  // Depth infinity
  std::string owner;      // the client's DAV:owner element
  std::int64_t timeout_s = 0;
  std::string token;  // "urn:uuid:..."
};

namespace detail {
inline Lock lock_of(const verbd_lock& raw) {
  return Lock{std::string(view(raw.root)),  raw.exclusive != 0, raw.infinite != 0,
              std::string(view(raw.owner)), raw.timeout_s,      raw.token};
}
inline std::int32_t take_lock(void* target, const verbd_lock* lock) noexcept {
  try {
    static_cast<std::vector<Lock>*>(target)->push_back(lock_of(*lock));
    return VERBD_OK;
  } catch (...) {
    return VERBD_NO_MEMORY;
  }
}
}  // namespace detail

// The host's lock table, which the host itself enforces on every request.
class Locks {
 public:
  explicit Locks(const verbd_host& host) noexcept : host_(host) {}

  // Takes `lock` (root, scope, depth, owner, timeout_s asked), filling its
  // token and the timeout granted; Status::locked on a conflict.
  Status acquire(Lock& lock) const {
    verbd_lock raw{};
    raw.struct_size = sizeof raw;
    raw.root = detail::str(lock.root);
    raw.exclusive = lock.exclusive ? 1 : 0;
    raw.infinite = lock.infinite ? 1 : 0;
    raw.owner = detail::str(lock.owner);
    raw.timeout_s = lock.timeout_s;
    auto s = Status(host_.lock_acquire(host_.context, &raw));
    if (s == Status::ok) {
      lock.token = raw.token;
      lock.timeout_s = raw.timeout_s;
    }
    return s;
  }
  // Renews the lock `token` covering `path`; Status::not_found when none does.
  Status refresh(std::string_view path, std::string_view token, std::int64_t timeout_s, Lock& renewed) const {
    std::vector<Lock> found;
    verbd_lock_sink sink{sizeof sink, &found, &detail::take_lock};
    auto s =
        Status(host_.lock_refresh(host_.context, detail::str(path), detail::str(token), timeout_s, &sink));
    if (s == Status::ok && !found.empty()) renewed = std::move(found.front());
    return s;
  }
  Status release(std::string_view path, std::string_view token) const noexcept {
    return Status(host_.lock_release(host_.context, detail::str(path), detail::str(token)));
  }
  // Appends the locks covering `path`.
  Status discover(std::string_view path, std::vector<Lock>& locks) const noexcept {
    verbd_lock_sink sink{sizeof sink, &locks, &detail::take_lock};
    return Status(host_.lock_discover(host_.context, detail::str(path), &sink));
  }

 private:
  const verbd_host& host_;
};

enum class LogLevel : std::int32_t {
  trace = VERBD_LOG_TRACE,
  debug = VERBD_LOG_DEBUG,
  info = VERBD_LOG_INFO,
  warn = VERBD_LOG_WARN,
  error = VERBD_LOG_ERROR,
};

// The host as a plugin sees it: store, settings, log.
class Host {
 public:
  explicit Host(const verbd_host& raw) noexcept : raw_(raw), store_(raw), locks_(raw) {}
  const verbd_host& raw() const noexcept { return raw_; }
  const Store& store() const noexcept { return store_; }
  const Locks& locks() const noexcept { return locks_; }

  void log(LogLevel level, std::string_view message) const noexcept {
    raw_.log(raw_.context, std::int32_t(level), detail::str(message));
  }

  // A setting from the config's [plugins.<method>] table, or `fallback` when
  // it is absent. The fallback's type is the setting's: a string (a literal,
  // std::string or std::string_view) gives a std::string, an integer a
  // std::int64_t, a bool a bool.
  //
  //     std::string index = host.setting("index", "index.html");
  //     std::int64_t depth = host.setting("depth", 3);
  //     bool listing = host.setting("listing", true);
  //
  // A setting of another type in the config throws std::invalid_argument,
  // which refuses the plugin at load time with a message naming the key.
  template <class Fallback>
  auto setting(std::string_view key, const Fallback& fallback) const {
    if constexpr (std::is_same_v<Fallback, bool>) {
      return bool_setting(key, fallback);
    } else if constexpr (std::is_integral_v<Fallback> && !std::is_same_v<Fallback, char>) {
      return int_setting(key, fallback);
    } else if constexpr (std::is_convertible_v<const Fallback&, std::string_view>) {
      return string_setting(key, fallback);
    } else {
      static_assert(detail::always_false<Fallback>, "a setting's fallback is a string, an integer or a bool");
    }
  }

 private:
  std::string string_setting(std::string_view key, std::string_view fallback) const {
    verbd_str value{};
    return fetched(raw_.setting_string(raw_.context, detail::str(key), &value), key, "a string")
               ? std::string(detail::view(value))
               : std::string(fallback);
  }
  std::int64_t int_setting(std::string_view key, std::int64_t fallback) const {
    std::int64_t value = 0;
    return fetched(raw_.setting_int(raw_.context, detail::str(key), &value), key, "an integer") ? value
                                                                                                : fallback;
  }
  bool bool_setting(std::string_view key, bool fallback) const {
    std::int32_t value = 0;
    return fetched(raw_.setting_bool(raw_.context, detail::str(key), &value), key, "a boolean") ? value != 0
                                                                                                : fallback;
  }

  static bool fetched(std::int32_t status, std::string_view key, const char* wanted) {
    if (status == VERBD_BAD_ARGUMENT)
      throw std::invalid_argument("setting '" + std::string(key) + "' must be " + wanted);
    return status == VERBD_OK;
  }

  const verbd_host& raw_;
  Store store_;
  Locks locks_;
};

namespace detail {

template <class Plugin>
struct Instance {
  explicit Instance(const verbd_host& raw) : host(raw), plugin(host) {}
  Host host;
  Plugin plugin;
};

inline void copy_error(const char* what, char* error, std::size_t error_size) noexcept {
  if (error == nullptr || error_size == 0) return;
  std::strncpy(error, what, error_size - 1);
  error[error_size - 1] = '\0';
}

template <class Plugin>
std::int32_t create(const verbd_host* host, void** instance, char* error, std::size_t error_size) noexcept {
  try {
    *instance = new Instance<Plugin>(*host);
    return VERBD_OK;
  } catch (const std::exception& e) {
    copy_error(e.what(), error, error_size);
  } catch (...) {
    copy_error("an exception that is not a std::exception", error, error_size);
  }
  return VERBD_PLUGIN_FAILED;
}

template <class Plugin>
void destroy(void* instance) noexcept {
  delete static_cast<Instance<Plugin>*>(instance);
}

inline void log_failure(const verbd_host& host, const char* what) noexcept {
  verbd_str message{what, std::strlen(what)};
  host.log(host.context, VERBD_LOG_ERROR, message);
}

template <class Plugin>
std::int32_t handle(void* instance, const verbd_request* request, verbd_response* response) noexcept {
  auto& self = *static_cast<Instance<Plugin>*>(instance);
  try {
    Response writer(self.host.raw(), response);
    try {
      self.plugin.handle(Request(*request, self.host.raw()), writer);
    } catch (const BodyNotInMemory& e) {
      writer.status(413);
      writer.append(e.what());
    }
    return VERBD_OK;
  } catch (const std::exception& e) {
    log_failure(self.host.raw(), e.what());  // here: e.what() dies with e
  } catch (...) {
    log_failure(self.host.raw(), "an exception that is not a std::exception");
  }
  return VERBD_PLUGIN_FAILED;
}

// VERBD_PLUGIN_NEVER_BLOCKS when the class says `static constexpr bool never_blocks = true;`.
template <class Plugin, class = void>
inline constexpr std::uint32_t flags_of = 0;
template <class Plugin>
inline constexpr std::uint32_t flags_of<Plugin, std::void_t<decltype(Plugin::never_blocks)>> =
    Plugin::never_blocks ? VERBD_PLUGIN_NEVER_BLOCKS : 0;

template <class Plugin>
constexpr verbd_plugin_descriptor describe(const char* name, const char* version,
                                           const char* const* methods) noexcept {
  return verbd_plugin_descriptor{VERBD_PLUGIN_MAGIC,
                                 VERBD_ABI_MAJOR,
                                 VERBD_ABI_MINOR,
                                 sizeof(verbd_plugin_descriptor),
                                 name,
                                 version,
                                 methods,
                                 &create<Plugin>,
                                 &destroy<Plugin>,
                                 &handle<Plugin>,
                                 flags_of<Plugin>};
}

}  // namespace detail
}  // namespace verbd

// Exports PluginClass as the plugin `name` (a short word for logs) at
// `version`, serving the method tokens that follow.
#define VERBD_PLUGIN(PluginClass, name, version, ...)                        \
  static const char* const verbd_plugin_methods_[] = {__VA_ARGS__, nullptr}; \
  extern "C" VERBD_EXPORT const verbd_plugin_descriptor verbd_plugin =       \
      ::verbd::detail::describe<PluginClass>(name, version, verbd_plugin_methods_)

#endif  // VERBD_PLUGIN_HPP
