// The C table of host services a plugin calls (see verbd_host in
// <verbd/plugin.h>). Each function turns C arguments into host calls and
// never lets an exception out: the caller is plugin code.
#include "http/response.hpp"
#include "plugin/plugin.hpp"

#include <spdlog/spdlog.h>

#include <string_view>

namespace verbd::plugin {
namespace {

Services& services_of(void* context) { return *static_cast<Services*>(context); }
std::string_view view(verbd_str s) { return {s.data, s.size}; }
http::Response& response_of(verbd_response* response) { return *reinterpret_cast<http::Response*>(response); }

void log(void* context, std::int32_t level, verbd_str message) noexcept {
  static constexpr spdlog::level::level_enum levels[] = {spdlog::level::trace, spdlog::level::debug,
                                                         spdlog::level::info, spdlog::level::warn,
                                                         spdlog::level::err};
  auto index = level < 0 ? 0 : level > 4 ? 4 : level;
  try {
    services_of(context).log->log(levels[index], "{}", view(message));
  } catch (...) {
  }
}

// Looks `key` up and hands its value to `give` when it has type T.
template <class T, class Give>
std::int32_t setting(void* context, verbd_str key, Give give) noexcept {
  const auto& settings = services_of(context).settings;
  auto found = settings.find(view(key));
  if (found == settings.end()) return VERBD_NOT_FOUND;
  const T* value = std::get_if<T>(&found->second);
  if (value == nullptr) return VERBD_BAD_ARGUMENT;
  give(*value);
  return VERBD_OK;
}

std::int32_t setting_string(void* context, verbd_str key, verbd_str* value) noexcept {
  // The view stays valid: the settings live as long as the plugin instance.
  return setting<std::string>(context, key, [value](const std::string& text) {
    *value = {text.data(), text.size()};
  });
}

std::int32_t setting_int(void* context, verbd_str key, std::int64_t* value) noexcept {
  return setting<std::int64_t>(context, key, [value](std::int64_t number) { *value = number; });
}

std::int32_t setting_bool(void* context, verbd_str key, std::int32_t* value) noexcept {
  return setting<bool>(context, key, [value](bool flag) { *value = flag ? 1 : 0; });
}

// Runs a store call, turning an exception (out of memory) into an I/O error.
template <class Call>
std::int32_t guarded(Call&& call) noexcept {
  try {
    return call();
  } catch (...) {
    return VERBD_IO_ERROR;
  }
}

std::int32_t store_stat(void* context, verbd_str path, verbd_entry* entry) noexcept {
  return guarded([&] { return services_of(context).store->stat(view(path), *entry); });
}

std::int32_t store_read(void* context, verbd_str path, verbd_sink* sink, verbd_entry* entry) noexcept {
  return guarded([&] {
    std::string bytes;
    auto status = services_of(context).store->read(view(path), &bytes, *entry);
    if (status == VERBD_OK) sink->append(sink->target, bytes.data(), bytes.size());
    return status;
  });
}

std::int32_t store_write(void* context, const verbd_write* write, verbd_entry* entry,
                         std::int32_t* created) noexcept {
  return guarded([&] {
    store::Write request{view(write->path), view(write->body), view(write->media_type),
                         static_cast<store::WriteMode>(write->mode)};
    if (write->mode < VERBD_WRITE_REPLACE || write->mode > VERBD_WRITE_CREATE) return int(VERBD_BAD_ARGUMENT);
    bool was_created = false;
    auto status = services_of(context).store->write(request, *entry, was_created);
    *created = was_created ? 1 : 0;
    return int(status);
  });
}

std::int32_t store_remove(void* context, verbd_str path) noexcept {
  return guarded([&] { return services_of(context).store->remove(view(path)); });
}

std::int32_t store_list(void* context, verbd_str path, verbd_sink* sink) noexcept {
  return guarded([&] {
    std::string lines;
    auto status = services_of(context).store->list(view(path), lines);
    if (status == VERBD_OK) sink->append(sink->target, lines.data(), lines.size());
    return status;
  });
}

// Response calls record a failure in the response rather than throw.
template <class Call>
void recorded(verbd_response* response, Call&& call) noexcept {
  try {
    call(response_of(response));
  } catch (...) {
  }
}

void response_status(verbd_response* response, std::int32_t status) noexcept {
  recorded(response, [&](http::Response& r) { r.set_status(status); });
}

void response_header(verbd_response* response, verbd_str name, verbd_str value) noexcept {
  recorded(response, [&](http::Response& r) { r.add_header(view(name), view(value)); });
}

void response_append(verbd_response* response, verbd_str bytes) noexcept {
  recorded(response, [&](http::Response& r) { r.append(view(bytes)); });
}

std::int32_t response_resource(verbd_response* response, verbd_str path, verbd_entry* entry) noexcept {
  return guarded([&] { return response_of(response).attach(view(path), *entry); });
}

}  // namespace

verbd_host make_host_table(Services& services) {
  verbd_host host{};
  host.struct_size = sizeof(verbd_host);
  host.abi_major = VERBD_ABI_MAJOR;
  host.abi_minor = VERBD_ABI_MINOR;
  host.context = &services;
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
  return host;
}

}  // namespace verbd::plugin
