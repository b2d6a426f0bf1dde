// Not for plugin authors: the rules verbd holds a plugin to, written once
// and included by both the host and the test host of <verbd/testing.hpp>, so
// that a plugin's unit test sees the response the wire would carry.
//
//   - which descriptors are refused, and the words that say why;
//   - which statuses and header fields a plugin may set;
//   - the error page verbd writes for a refusal or an empty error response,
//     and the media type of a body that has none.
#ifndef VERBD_DETAIL_RULES_HPP
#define VERBD_DETAIL_RULES_HPP

#include <verbd/plugin.h>
#include <verbd/detail/text.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

namespace verbd::detail {

// ---- The descriptor -------------------------------------------------------

// Its size as of ABI 1.0, before `flags` (1.1) was added.
inline constexpr std::uint32_t descriptor_size_1_0 = offsetof(verbd_plugin_descriptor, flags);

// Its flags; none when it is older than the field.
inline std::uint32_t descriptor_flags(const verbd_plugin_descriptor& d) noexcept {
  return d.struct_size >= offsetof(verbd_plugin_descriptor, flags) + sizeof d.flags ? d.flags : 0;
}

// Why verbd refuses a plugin with this descriptor, in words that say what to
// do about it; "" when it does not. Fields are checked in the order the ABI
// promises they exist: magic first, so that nothing else of a stranger's
// struct is read.
inline std::string descriptor_problem(const verbd_plugin_descriptor& d) {
  auto number = [](unsigned n) { return std::to_string(n); };
  if (d.magic != VERBD_PLUGIN_MAGIC) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%08x", d.magic);
    return std::string("its descriptor has magic ") + hex +
           ", not 0x56524244: it is not a verbd plugin, or it is damaged";
  }
  if (d.abi_major != VERBD_ABI_MAJOR)
    return "built for SDK ABI " + number(d.abi_major) + ", this host speaks ABI " + number(VERBD_ABI_MAJOR) +
           ": rebuild it against this SDK";
  if (d.abi_minor > VERBD_ABI_MINOR)
    return "built for SDK ABI " + number(d.abi_major) + "." + number(d.abi_minor) +
           ", newer than this host's " + number(VERBD_ABI_MAJOR) + "." + number(VERBD_ABI_MINOR) +
           ": upgrade verbd, or rebuild it against this SDK";
  if (d.struct_size < descriptor_size_1_0)
    return "its descriptor is " + number(d.struct_size) + " bytes, ABI 1 needs " +
           number(descriptor_size_1_0) + ": rebuild it against this SDK";
  if (d.name == nullptr || *d.name == '\0' || d.version == nullptr)
    return "its descriptor has no name or version";
  if (d.create == nullptr || d.destroy == nullptr || d.handle == nullptr)
    return "its descriptor lacks create, destroy or handle";
  if (d.methods == nullptr || d.methods[0] == nullptr) return "it serves no method";
  for (const char* const* method = d.methods; *method != nullptr; ++method)
    if (!is_token(*method)) return std::string("it serves '") + *method + "', which is not a method token";
  return {};
}

// ---- Structs a plugin hands the host --------------------------------------

// Their sizes as of ABI 1.0: a smaller one is refused (VERBD_BAD_ARGUMENT).
// When a field is added to one of them, its sizeof here becomes
// offsetof(struct, the_new_field), so that these stay the 1.0 sizes.
inline constexpr std::uint32_t entry_size_1_0 = offsetof(verbd_entry, created_unix);
inline constexpr std::uint32_t write_size_1_0 = offsetof(verbd_write, content);
inline constexpr std::uint32_t sink_size_1_0 = sizeof(verbd_sink);

inline bool is_usable(const verbd_entry* entry) noexcept {
  return entry != nullptr && entry->struct_size >= entry_size_1_0;
}
inline bool is_usable(const verbd_write* write) noexcept {
  return write != nullptr && write->struct_size >= write_size_1_0 && write->mode >= VERBD_WRITE_REPLACE &&
         write->mode <= VERBD_WRITE_CREATE;
}
// The request body a write names (1.2), or null: none, or an older plugin.
inline const verbd_content* write_content(const verbd_write& write) noexcept {
  return write.struct_size >= offsetof(verbd_write, content) + sizeof write.content ? write.content : nullptr;
}
inline bool is_usable(const verbd_sink* sink) noexcept {
  return sink != nullptr && sink->struct_size >= sink_size_1_0 && sink->append != nullptr;
}

// (1.4) The WebDAV structs, whole: nothing has been added to them since.
inline bool is_usable(const verbd_property_sink* sink) noexcept {
  return sink != nullptr && sink->struct_size >= sizeof(verbd_property_sink) && sink->take != nullptr;
}
inline bool is_usable(const verbd_lock_sink* sink) noexcept {
  return sink != nullptr && sink->struct_size >= sizeof(verbd_lock_sink) && sink->take != nullptr;
}
inline bool is_usable(const verbd_lock* lock) noexcept {
  return lock != nullptr && lock->struct_size >= sizeof(verbd_lock);
}

// Copies `full` into the plugin's `out`: as much as its struct_size holds,
// which is kept.
inline void give_entry(const verbd_entry& full, verbd_entry& out) noexcept {
  constexpr std::size_t first = offsetof(verbd_entry, kind);
  std::size_t size = out.struct_size < sizeof full ? out.struct_size : sizeof full;
  std::memcpy(reinterpret_cast<char*>(&out) + first, reinterpret_cast<const char*>(&full) + first,
              size - first);
}

// ---- What a plugin may put in a response ----------------------------------

// 200 to 599: 1xx are the host's (100 Continue), and nothing else is a status.
constexpr bool is_plugin_status(int status) noexcept { return status >= 200 && status <= 599; }

inline std::string status_problem(int status) {
  if (is_plugin_status(status)) return {};
  return "status " + std::to_string(status) + " is outside 200-599";
}

// No CR, LF or NUL: nothing that could end the field and start another.
// (Three searches, each a memchr, which looks at many bytes at a time.)
constexpr bool is_safe_field_value(std::string_view text) noexcept {
  return text.find('\r') == text.npos && text.find('\n') == text.npos && text.find('\0') == text.npos;
}

// The fields the host writes itself, since they frame the message.
constexpr bool is_host_owned_field(std::string_view name) noexcept {
  switch (name.size()) {  // each is asked about every field a plugin sets: compare one at most
    case 4: return iequals(name, "Date");
    case 6: return iequals(name, "Server");
    case 10: return iequals(name, "Connection");
    case 14: return iequals(name, "Content-Length");
    case 17: return iequals(name, "Transfer-Encoding");
    default: return false;
  }
}

inline bool is_plugin_field(std::string_view name, std::string_view value) noexcept {
  return is_token(name) && is_safe_field_value(value) && !is_host_owned_field(name);
}

// What is wrong with a field a plugin sets, or "" when nothing is.
inline std::string field_problem(std::string_view name, std::string_view value) {
  if (!is_token(name)) return "header name '" + std::string(name) + "' is not a token";
  if (!is_safe_field_value(value)) return "header " + std::string(name) + " has CR, LF or NUL in its value";
  if (is_host_owned_field(name)) return "header " + std::string(name) + " belongs to the host";
  return {};
}

// ---- What the host makes of a response ------------------------------------

// RFC 9110 §6.4.1 and §15.3.5: 204 and 304 carry no content (and, by §8.6,
// no Content-Length).
constexpr bool status_allows_content(int status) noexcept { return status != 204 && status != 304; }

// A body without a Content-Type is sent as this.
constexpr std::string_view default_media_type = "application/octet-stream";
constexpr std::string_view error_page_media_type = "text/plain; charset=utf-8";

// Why the host answers 500 in a plugin's place.
constexpr std::string_view plugin_failed = "the plugin failed";
constexpr std::string_view plugin_broke_contract = "the plugin returned an invalid response";

// An error status with no body and no type of its own gets an error page,
// as nginx's error pages do.
constexpr bool wants_error_page(int status, std::uint64_t content_length, bool has_content_type) noexcept {
  return status >= 400 && content_length == 0 && !has_content_type;
}

inline const char* reason_phrase(int status) noexcept {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 207:
      return "Multi-Status";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 423:
      return "Locked";
    case 424:
      return "Failed Dependency";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    case 507:
      return "Insufficient Storage";
    default:
      return status < 400 ? "OK" : status < 500 ? "Client Error" : "Server Error";
  }
}

// The error page's text: "404 Not Found\n", or "400 Bad Request: why\n".
inline void append_error_page(std::string& body, int status, std::string_view why) {
  body.append(std::to_string(status)).append(" ").append(reason_phrase(status));
  if (!why.empty()) body.append(": ").append(why);
  body.append("\n");
}

}  // namespace verbd::detail

#endif  // VERBD_DETAIL_RULES_HPP
