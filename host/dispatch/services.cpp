#include "dispatch/services.hpp"

#include "common/metrics.hpp"
#include "log/log.hpp"
#include "plugin/plugin.hpp"

#include <verbd/detail/rules.hpp>
#include <verbd/detail/store_rules.hpp>
#include <verbd/detail/text.hpp>

#include <spdlog/spdlog.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <new>
#include <string_view>
#include <vector>

namespace verbd::dispatch {
namespace {

using detail::view;

plugin::Context& context_of(void* context) { return *static_cast<plugin::Context*>(context); }

void log(void* context, std::int32_t level, verbd_str message) noexcept {
  static constexpr spdlog::level::level_enum levels[] = {spdlog::level::trace, spdlog::level::debug,
                                                         spdlog::level::info, spdlog::level::warn,
                                                         spdlog::level::err};
  auto index = level < 0 ? 0 : level > 4 ? 4 : level;
  try {
    context_of(context).log->log(levels[index], "{}", view(message));
  } catch (...) {  // a line lost is better than an exception in plugin code
  }
}

// Looks `key` up and hands its value to `give` when it has type T.
template <class T, class Give>
std::int32_t setting(void* context, verbd_str key, Give give) noexcept {
  const auto& settings = context_of(context).settings;
  auto found = settings.find(view(key));
  if (found == settings.end()) return VERBD_NOT_FOUND;
  const T* value = std::get_if<T>(&found->second);
  if (value == nullptr) return VERBD_BAD_ARGUMENT;
  give(*value);
  return VERBD_OK;
}

std::int32_t setting_string(void* context, verbd_str key, verbd_str* value) noexcept {
  if (value == nullptr) return VERBD_BAD_ARGUMENT;
  // The view stays valid: the settings live as long as the plugin instance.
  return setting<std::string>(context, key, [value](const std::string& text) { *value = detail::str(text); });
}

std::int32_t setting_int(void* context, verbd_str key, std::int64_t* value) noexcept {
  if (value == nullptr) return VERBD_BAD_ARGUMENT;
  return setting<std::int64_t>(context, key, [value](std::int64_t number) { *value = number; });
}

std::int32_t setting_bool(void* context, verbd_str key, std::int32_t* value) noexcept {
  if (value == nullptr) return VERBD_BAD_ARGUMENT;
  return setting<bool>(context, key, [value](bool flag) { *value = flag ? 1 : 0; });
}

// Runs a store call; memory running out is a status, not an exception.
// A failure that is not the client's (I/O, space) is counted.
template <class Call>
std::int32_t guarded(Call&& call) noexcept {
  std::int32_t status;
  try {
    status = call();
  } catch (const std::bad_alloc&) {
    return VERBD_NO_MEMORY;
  } catch (...) {
    status = VERBD_IO_ERROR;
  }
  if (status == VERBD_IO_ERROR || status == VERBD_NO_SPACE)
    metrics::add_shared(metrics::events().store_errors);
  return status;
}

// Runs `call` with an entry for the store to fill, and gives the plugin's
// `entry` what fits in it. An entry of the host's own size (a plugin of this
// ABI minor) is filled in place, sparing a copy on every GET.
template <class Call>
std::int32_t filling(verbd_entry& entry, Call&& call) {
  if (entry.struct_size == sizeof(store::Entry)) {
    auto status = call(entry);
    entry.struct_size = sizeof(store::Entry);  // the store starts from a blank entry
    return status;
  }
  store::Entry full{};
  auto status = call(full);
  detail::give_entry(full, entry);
  return status;
}

std::int32_t store_stat(void* context, verbd_str path, verbd_entry* entry) noexcept {
  if (!detail::is_usable(entry)) return VERBD_BAD_ARGUMENT;
  return guarded([&] {
    return filling(*entry,
                   [&](store::Entry& full) { return context_of(context).store->stat(view(path), full); });
  });
}

std::int32_t store_read(void* context, verbd_str path, const verbd_sink* sink, verbd_entry* entry) noexcept {
  if (!detail::is_usable(sink) || !detail::is_usable(entry)) return VERBD_BAD_ARGUMENT;
  return guarded([&]() -> std::int32_t {
    std::string bytes;
    auto status = filling(*entry, [&](store::Entry& full) {
      return context_of(context).store->read(view(path), &bytes, full);
    });
    if (status != VERBD_OK) return status;
    return sink->append(sink->target, bytes.data(), bytes.size());
  });
}

thread_local LockScope* lock_scope = nullptr;

// Runs `call`, a store call that makes `changes`, unless a lock protects
// one of them from the request this thread answers (LockScope): then
// VERBD_LOCKED, and the scope keeps the lock for the host's 423.
template <class Call>
std::int32_t unless_locked(void* context, std::initializer_list<store::Change> changes, Call&& call) {
  store::Store& store = *context_of(context).store;
  auto exists = [&store](std::string_view path) {
    store::Entry entry{};
    entry.struct_size = sizeof entry;
    return store.stat(path, entry) == VERBD_OK;
  };
  std::span<const std::string> tokens;
  if (lock_scope != nullptr) tokens = lock_scope->tokens();
  store::Lock met;
  verbd_status status = store.locks().admit(
      changes, tokens, exists, [&] { return static_cast<verbd_status>(call(store)); }, met);
  if (status == VERBD_LOCKED && lock_scope != nullptr) lock_scope->note(std::move(met));
  return status;
}

using Membership = store::Change::Membership;

// A plugin that declared it never blocks runs on the event loop, where a
// write (with its fsync) must not: refused, and said in the log.
bool refused_as_blocking(void* context, const char* service) noexcept {
  auto& plugin = context_of(context);
  if (!plugin.never_blocks) return false;
  try {
    plugin.log->error(
        "{} refused (VERBD_WOULD_BLOCK): the plugin declared VERBD_PLUGIN_NEVER_BLOCKS, so it runs on the "
        "event loop, where store writes and removes may not; drop the flag to have it run on a pool thread",
        service);
  } catch (...) {
  }
  return true;
}

std::int32_t store_write(void* context, const verbd_write* write, verbd_entry* entry,
                         std::int32_t* created) noexcept {
  if (!detail::is_usable(write) || !detail::is_usable(entry) || created == nullptr) return VERBD_BAD_ARGUMENT;
  if (refused_as_blocking(context, "store_write")) return VERBD_WOULD_BLOCK;
  return guarded([&] {
    store::Write request{view(write->path), view(write->body), view(write->media_type),
                         static_cast<store::WriteMode>(write->mode)};
    if (const verbd_content* handle = detail::write_content(*write)) {
      const Content& content = Content::of(handle);
      request.body = content.in_memory;
      if (content.in_file()) request.body_file = &content.file;
    }
    bool was_created = false;
    auto status = filling(*entry, [&](store::Entry& full) {
      return unless_locked(context, {{request.path, false, Membership::if_new}},
                           [&](store::Store& store) { return store.write(request, full, was_created); });
    });
    *created = was_created ? 1 : 0;
    return status;
  });
}

std::int32_t store_remove(void* context, verbd_str path) noexcept {
  if (refused_as_blocking(context, "store_remove")) return VERBD_WOULD_BLOCK;
  return guarded([&] {
    return unless_locked(context, {{view(path), true, Membership::yes}},
                         [&](store::Store& store) { return store.remove(view(path)); });
  });
}

std::int32_t store_list(void* context, verbd_str path, const verbd_sink* sink) noexcept {
  if (!detail::is_usable(sink)) return VERBD_BAD_ARGUMENT;
  return guarded([&]() -> std::int32_t {
    std::string lines;
    auto status = context_of(context).store->list(view(path), lines);
    if (status != VERBD_OK) return status;
    return sink->append(sink->target, lines.data(), lines.size());
  });
}

// The first broken contract is the one the log tells. `why` makes its text.
template <class Why>
void note_problem(Draft& draft, Why&& why) noexcept {
  if (draft.broken) return;
  draft.broken = true;
  try {
    draft.problem = why();
  } catch (...) {  // no memory for the text: the 500 stands without it
  }
}

// Once the head has gone (response_send), nothing but more pieces can
// change the response: any other response call breaks the contract.
bool refused_after_head(Draft& draft, const char* service) noexcept {
  if (draft.sending == Draft::Sending::not_yet) return false;
  note_problem(draft, [&] { return std::string(service) + " after response_send had sent the head"; });
  return true;
}

void log_refused_send(const Draft& draft) noexcept {
  static auto& log = verbd::log::get("plugins");
  try {
    log.error(
        "{}: response_send refused (VERBD_WOULD_BLOCK): the plugin declared VERBD_PLUGIN_NEVER_BLOCKS, so it "
        "runs on the event loop, which may not wait for a client; drop the flag to have it run on a pool "
        "thread",
        draft.plugin_name);
  } catch (...) {
  }
}

// Response calls record a failure in the draft rather than throw: memory
// running out while the response grows makes it a 500 too.
template <class Call>
void recorded(verbd_response* response, const char* service, Call&& call) noexcept {
  Draft& draft = Draft::of(response);
  if (refused_after_head(draft, service)) return;
  try {
    call(draft);
  } catch (...) {
    note_problem(draft, [] { return std::string("out of memory while building the response"); });
  }
}

void response_status(verbd_response* response, std::int32_t status) noexcept {
  recorded(response, "response_status", [&](Draft& draft) {
    if (detail::is_plugin_status(status))
      draft.response.set_status(status);
    else
      note_problem(draft, [&] { return detail::status_problem(status); });
  });
}

void response_header(verbd_response* response, verbd_str name, verbd_str value) noexcept {
  recorded(response, "response_header", [&](Draft& draft) {
    if (detail::is_plugin_field(view(name), view(value)))
      draft.response.add_field(view(name), view(value));
    else
      note_problem(draft, [&] { return detail::field_problem(view(name), view(value)); });
  });
}

void response_append(verbd_response* response, verbd_str bytes) noexcept {
  recorded(response, "response_append", [&](Draft& draft) { draft.response.append(view(bytes)); });
}

// HEAD describes the resource without reading it; a large one is sent from
// its file. Marked as a resource, a part of it may be sent (http/range.hpp).
store::Status attach(Draft& draft, std::string_view path, store::Entry& entry) {
  http::Response& response = draft.response;
  Fd file;
  store::Status status = response.answers_head()
                             ? draft.store.read(path, nullptr, entry)
                             : draft.store.read_for_sending(path, response.fresh_body(), file, entry);
  if (status != VERBD_OK) {
    response.fresh_body();
    return status;
  }
  if (response.answers_head())
    response.set_unread_body(entry.size);
  else if (file.ok())
    response.set_file_body(std::move(file), entry.size);
  response.mark_body_as_resource();
  return status;
}

std::int32_t response_resource(verbd_response* response, verbd_str path, verbd_entry* entry) noexcept {
  if (!detail::is_usable(entry)) return VERBD_BAD_ARGUMENT;
  if (refused_after_head(Draft::of(response), "response_resource")) return VERBD_BAD_ARGUMENT;
  return guarded([&] {
    return filling(*entry, [&](store::Entry& full) { return attach(Draft::of(response), view(path), full); });
  });
}

// The first piece sends the head, and what was appended before it.
std::int32_t begin_sending(Draft& draft, std::string_view bytes) {
  http::Response& response = draft.response;
  bool has_content = detail::status_allows_content(response.status());
  if (response.answers_head() || !has_content) {
    if (has_content) response.set_streamed_body(nullptr);  // HEAD: the head GET's would have
    draft.sending = Draft::Sending::dropping;
    return VERBD_OK;
  }
  if (draft.never_blocks || draft.streamer == nullptr) {
    log_refused_send(draft);
    return VERBD_WOULD_BLOCK;
  }
  if (response.has_unread_body()) {
    note_problem(draft, [] { return std::string("response_send after response_resource or response_file"); });
    return VERBD_CLIENT_GONE;
  }
  std::string before = response.take_appended();
  if (!draft.streamer->begin(response)) return VERBD_CLIENT_GONE;
  draft.sending = Draft::Sending::streaming;
  bool taken = (before.empty() || draft.streamer->send(before)) && draft.streamer->send(bytes);
  return taken ? VERBD_OK : VERBD_CLIENT_GONE;
}

std::int32_t response_send(verbd_response* response, verbd_str bytes) noexcept {
  Draft& draft = Draft::of(response);
  if (draft.broken) return VERBD_CLIENT_GONE;  // it will be a 500: nothing of it goes
  return guarded([&]() -> std::int32_t {
    switch (draft.sending) {
      case Draft::Sending::streaming:
        return draft.streamer->send(view(bytes)) ? VERBD_OK : VERBD_CLIENT_GONE;
      case Draft::Sending::dropping:
        return VERBD_OK;
      case Draft::Sending::not_yet:
        break;
    }
    return begin_sending(draft, view(bytes));
  });
}

// The host owns `fd` from here on, whatever the outcome.
std::int32_t response_file(verbd_response* response, int fd) noexcept {
  Fd file(fd);
  Draft& draft = Draft::of(response);
  if (refused_after_head(draft, "response_file")) return VERBD_BAD_ARGUMENT;
  struct stat about {};
  if (fd < 0 || ::fstat(fd, &about) != 0 || !S_ISREG(about.st_mode)) return VERBD_BAD_ARGUMENT;
  auto size = static_cast<std::uint64_t>(about.st_size);
  return guarded([&] {
    if (draft.response.answers_head())
      draft.response.set_unread_body(size);
    else
      draft.response.set_file_body(std::move(file), size);
    return VERBD_OK;
  });
}

std::int32_t content_read(const verbd_content* handle, std::uint64_t offset, char* buffer,
                          std::size_t capacity, std::size_t* got) noexcept {
  if (handle == nullptr || got == nullptr || (buffer == nullptr && capacity > 0)) return VERBD_BAD_ARGUMENT;
  const Content& content = Content::of(handle);
  *got = 0;
  if (!content.in_file()) {
    if (offset < content.in_memory.size())
      *got = content.in_memory.copy(buffer, capacity, static_cast<std::size_t>(offset));
    return VERBD_OK;
  }
  if (offset >= content.file.size) return VERBD_OK;
  capacity = static_cast<std::size_t>(std::min<std::uint64_t>(capacity, content.file.size - offset));
  ssize_t n;
  do n = ::pread(content.file.fd, buffer, capacity, static_cast<off_t>(offset));
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    static auto& log = verbd::log::get("plugins");
    log.error("reading a request body from its spool file: {}", std::strerror(errno));
    return VERBD_IO_ERROR;
  }
  *got = static_cast<std::size_t>(n);
  return VERBD_OK;
}

std::int32_t store_make_collection(void* context, verbd_str path) noexcept {
  if (refused_as_blocking(context, "store_make_collection")) return VERBD_WOULD_BLOCK;
  return guarded([&] {
    return unless_locked(context, {{view(path), false, Membership::yes}},
                         [&](store::Store& store) { return store.make_collection(view(path)); });
  });
}

std::int32_t transfer(void* context, verbd_str from, verbd_str to, std::uint32_t flags, std::int32_t* created,
                      bool move) noexcept {
  if (created == nullptr) return VERBD_BAD_ARGUMENT;
  if (refused_as_blocking(context, move ? "store_move" : "store_copy")) return VERBD_WOULD_BLOCK;
  return guarded([&] {
    bool was_created = false;
    auto transfer = [&](store::Store& store) {
      return store.transfer(view(from), view(to), flags, move, was_created);
    };
    auto status =
        move
            ? unless_locked(context, {{view(from), true, Membership::yes}, {view(to), true, Membership::yes}},
                            transfer)
            : unless_locked(context, {{view(to), true, Membership::yes}}, transfer);
    *created = was_created ? 1 : 0;
    return status;
  });
}

std::int32_t store_copy(void* context, verbd_str from, verbd_str to, std::uint32_t flags,
                        std::int32_t* created) noexcept {
  return transfer(context, from, to, flags, created, false);
}

std::int32_t store_move(void* context, verbd_str from, verbd_str to, std::uint32_t flags,
                        std::int32_t* created) noexcept {
  return transfer(context, from, to, flags, created, true);
}

std::int32_t store_properties(void* context, verbd_str path, const verbd_property_sink* sink) noexcept {
  if (!detail::is_usable(sink)) return VERBD_BAD_ARGUMENT;
  return guarded([&]() -> std::int32_t {
    store::Properties properties;
    auto status = context_of(context).store->properties(view(path), properties);
    if (status != VERBD_OK) return status;
    for (const auto& [name, value] : properties) {
      verbd_property property{detail::str(name), detail::str(value)};
      if (auto taken = sink->take(sink->target, &property); taken != VERBD_OK) return taken;
    }
    return VERBD_OK;
  });
}

std::int32_t store_change_properties(void* context, verbd_str path, const verbd_property_change* changes,
                                     std::size_t count) noexcept {
  if (changes == nullptr && count > 0) return VERBD_BAD_ARGUMENT;
  if (refused_as_blocking(context, "store_change_properties")) return VERBD_WOULD_BLOCK;
  return guarded([&] {
    std::vector<store::PropertyChange> list;
    for (std::size_t i = 0; i < count; ++i)
      list.push_back(
          {view(changes[i].property.name), view(changes[i].property.value), changes[i].remove != 0});
    return unless_locked(context, {{view(path), false, Membership::no}},
                         [&](store::Store& store) { return store.change_properties(view(path), list); });
  });
}

// A lock of the table as <verbd/plugin.h> has it, valid while `lock` is.
verbd_lock c_lock(const store::Lock& lock) noexcept {
  verbd_lock c{};
  c.struct_size = sizeof c;
  c.root = detail::str(lock.root);
  c.exclusive = lock.exclusive ? 1 : 0;
  c.infinite = lock.infinite ? 1 : 0;
  c.owner = detail::str(lock.owner);
  c.timeout_s = std::max<std::int64_t>(0, lock.expires_unix - static_cast<std::int64_t>(std::time(nullptr)));
  detail::copy_field(c.token, lock.token);
  return c;
}

std::int32_t lock_acquire(void* context, verbd_lock* lock) noexcept {
  if (!detail::is_usable(lock)) return VERBD_BAD_ARGUMENT;
  if (refused_as_blocking(context, "lock_acquire")) return VERBD_WOULD_BLOCK;
  return guarded([&] {
    store::Lock wanted{{},
                       std::string(view(lock->root)),
                       lock->exclusive != 0,
                       lock->infinite != 0,
                       std::string(view(lock->owner))};
    auto status = context_of(context).store->locks().acquire(wanted, lock->timeout_s);
    if (status == VERBD_OK) {
      detail::copy_field(lock->token, wanted.token);
      lock->timeout_s = c_lock(wanted).timeout_s;
    }
    return status;
  });
}

std::int32_t lock_refresh(void* context, verbd_str path, verbd_str token, std::int64_t timeout_s,
                          const verbd_lock_sink* sink) noexcept {
  if (!detail::is_usable(sink)) return VERBD_BAD_ARGUMENT;
  if (refused_as_blocking(context, "lock_refresh")) return VERBD_WOULD_BLOCK;
  return guarded([&]() -> std::int32_t {
    store::Lock renewed;
    auto status = context_of(context).store->locks().refresh(view(path), view(token), timeout_s, renewed);
    if (status != VERBD_OK) return status;
    verbd_lock c = c_lock(renewed);
    return sink->take(sink->target, &c);
  });
}

std::int32_t lock_release(void* context, verbd_str path, verbd_str token) noexcept {
  if (refused_as_blocking(context, "lock_release")) return VERBD_WOULD_BLOCK;
  return guarded([&] { return context_of(context).store->locks().release(view(path), view(token)); });
}

std::int32_t lock_discover(void* context, verbd_str path, const verbd_lock_sink* sink) noexcept {
  if (!detail::is_usable(sink)) return VERBD_BAD_ARGUMENT;
  return guarded([&]() -> std::int32_t {
    for (const store::Lock& lock : context_of(context).store->locks().affecting(view(path))) {
      verbd_lock c = c_lock(lock);
      if (auto taken = sink->take(sink->target, &c); taken != VERBD_OK) return taken;
    }
    return VERBD_OK;
  });
}

}  // namespace

LockScope::LockScope(std::vector<std::string> tokens) noexcept
    : tokens_(std::move(tokens)), outer_(std::exchange(lock_scope, this)) {}

LockScope::~LockScope() { lock_scope = outer_; }

verbd_host services_table() noexcept {
  verbd_host host{};
  host.struct_size = sizeof(verbd_host);
  host.abi_major = VERBD_ABI_MAJOR;
  host.abi_minor = VERBD_ABI_MINOR;
  host.log = &log;
  host.setting_string = &setting_string;
  host.setting_int = &setting_int;
  host.setting_bool = &setting_bool;
  host.store_stat = &store_stat;
  host.store_read = &store_read;
  host.store_write = &store_write;
  host.store_remove = &store_remove;
  host.store_list = &store_list;
  host.response_status = &response_status;
  host.response_header = &response_header;
  host.response_append = &response_append;
  host.response_resource = &response_resource;
  host.content_read = &content_read;
  host.response_send = &response_send;
  host.response_file = &response_file;
  host.store_make_collection = &store_make_collection;
  host.store_copy = &store_copy;
  host.store_move = &store_move;
  host.store_properties = &store_properties;
  host.store_change_properties = &store_change_properties;
  host.lock_acquire = &lock_acquire;
  host.lock_refresh = &lock_refresh;
  host.lock_release = &lock_release;
  host.lock_discover = &lock_discover;
  return host;
}

}  // namespace verbd::dispatch
