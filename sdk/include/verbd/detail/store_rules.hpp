// Not for plugin authors: the rules for store paths and media types that
// every store applies, whoever hands it a path. The host only gives plugins
// clean paths, but a plugin may build its own ("/db/" + name), so a store
// checks again. Included by the host's backends and by
// <verbd/memory_store.hpp>, so that both guess and refuse alike.
#ifndef VERBD_DETAIL_STORE_RULES_HPP
#define VERBD_DETAIL_STORE_RULES_HPP

#include <verbd/plugin.h>
#include <verbd/detail/text.hpp>

#include <array>
#include <cstddef>
#include <cstring>
#include <string_view>
#include <utility>

namespace verbd::detail {

inline bool names_collection(std::string_view path) noexcept { return !path.empty() && path.back() == '/'; }

// "/a/b/" -> "a/b", "/" -> "": the path relative to the root.
inline std::string_view relative(std::string_view path) noexcept {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return path;
}

// Starts with '/'; no empty, "." or ".." segment; no NUL.
inline bool is_clean_path(std::string_view path) noexcept {
  if (path.empty() || path.front() != '/') return false;
  if (path.find('\0') != std::string_view::npos) return false;
  std::string_view rest = relative(path);
  while (!rest.empty()) {
    auto slash = rest.find('/');
    auto segment = rest.substr(0, slash);
    if (segment.empty() || segment == "." || segment == "..") return false;
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  }
  return true;
}

// The media type for a path, guessed from its extension.
inline std::string_view guess_media_type(std::string_view path) noexcept {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 22> by_extension{{
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"txt", "text/plain; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"csv", "text/csv; charset=utf-8"},
      {"md", "text/markdown; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"json", "application/json"},
      {"xml", "application/xml"},
      {"pdf", "application/pdf"},
      {"zip", "application/zip"},
      {"gz", "application/gzip"},
      {"wasm", "application/wasm"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"svg", "image/svg+xml"},
      {"webp", "image/webp"},
      {"ico", "image/vnd.microsoft.icon"},
      {"mp4", "video/mp4"},
      {"woff2", "font/woff2"},
  }};
  auto slash = path.rfind('/');
  auto name = path.substr(slash == std::string_view::npos ? 0 : slash + 1);
  auto dot = name.rfind('.');
  if (dot != std::string_view::npos && dot + 1 < name.size()) {
    auto extension = name.substr(dot + 1);
    for (auto [known, type] : by_extension)
      if (iequals(known, extension)) return type;
  }
  return "application/octet-stream";
}

// A media type a store may keep: printable ASCII, short enough for an entry.
inline bool is_storable_media_type(std::string_view media_type) noexcept {
  if (media_type.size() >= VERBD_MEDIA_TYPE_CAPACITY) return false;
  for (char c : media_type)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

// Whether `path` is `ancestor` itself or lies below it (when `ancestor` is
// a collection): "/a/b" is within "/a/", "/a" and "/a/b" are not.
inline bool is_within(std::string_view path, std::string_view ancestor) noexcept {
  if (path == ancestor) return true;
  return names_collection(ancestor) && path.substr(0, ancestor.size()) == ancestor;
}

// "/a/b" and "/a/b/" -> "/a/"; "/" -> "": the collection holding the path.
inline std::string_view parent_of(std::string_view path) noexcept {
  std::string_view inner = path.size() > 1 && names_collection(path) ? path.substr(0, path.size() - 1) : path;
  auto slash = inner.rfind('/');
  return inner == "/" || slash == std::string_view::npos ? std::string_view{} : inner.substr(0, slash + 1);
}

// A dead property's name in Clark notation: "{namespace}local", the
// namespace possibly empty, the local name not; no NUL anywhere.
inline bool is_property_name(std::string_view name) noexcept {
  auto close = name.find('}');
  return name.size() > 2 && name.front() == '{' && close != std::string_view::npos &&
         close + 1 < name.size() && name.find('\0') == std::string_view::npos;
}

// The most bytes of dead properties (names and values) one resource may
// hold, in every store. The files store may hold fewer where its
// filesystem does (extended attributes: about 4 KiB on ext4).
inline constexpr std::size_t max_property_bytes = 60 * 1024;

// Copies text into one of verbd_entry's fixed fields, always NUL-terminated.
template <std::size_t N>
void copy_field(char (&field)[N], std::string_view text) noexcept {
  auto n = text.size() < N ? text.size() : N - 1;
  std::memcpy(field, text.data(), n);
  field[n] = '\0';
}

}  // namespace verbd::detail

#endif  // VERBD_DETAIL_STORE_RULES_HPP
