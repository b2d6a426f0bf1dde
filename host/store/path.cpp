#include "store/path.hpp"

#include <array>
#include <utility>

namespace verbd::store {

bool is_clean_path(std::string_view path) noexcept {
  if (path.empty() || path.front() != '/') return false;
  if (path.find('\0') != std::string_view::npos) return false;
  std::string_view rest = relative(path);
  bool first = true;
  while (!rest.empty()) {
    auto slash = rest.find('/');
    auto segment = rest.substr(0, slash);
    if (segment.empty() || segment == "." || segment == "..") return false;
    if (first && segment == scratch_folder) return false;
    first = false;
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  }
  return true;
}

std::string_view relative(std::string_view path) noexcept {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return path;
}

std::string_view guess_media_type(std::string_view path) noexcept {
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
      if (known.size() == extension.size()) {
        bool same = true;
        for (std::size_t i = 0; i < known.size(); ++i) same = same && known[i] == (extension[i] | 0x20);
        if (same) return type;
      }
  }
  return "application/octet-stream";
}

bool is_storable_media_type(std::string_view media_type) noexcept {
  if (media_type.size() >= VERBD_MEDIA_TYPE_CAPACITY) return false;
  for (char c : media_type)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

}  // namespace verbd::store
