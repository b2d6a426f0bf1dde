// Rules every backend applies to the paths it is given, whoever gives them.
// The host only hands clean paths to plugins, but a plugin may build its own
// ("/db/" + name), so the store checks again rather than trusting it.
#pragma once

#include <verbd/plugin.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace verbd::store {

// Starts with '/'; no empty, "." or ".." segment; no NUL; not inside the
// store's own scratch folder.
bool is_clean_path(std::string_view path) noexcept;

inline bool names_collection(std::string_view path) noexcept { return !path.empty() && path.back() == '/'; }

// "/a/b/" -> "a/b", "/" -> "": the path relative to the root.
std::string_view relative(std::string_view path) noexcept;

// The media type for a path, guessed from its extension.
std::string_view guess_media_type(std::string_view path) noexcept;

// A media type a backend may store: printable ASCII, short enough for an entry.
bool is_storable_media_type(std::string_view media_type) noexcept;

// Copies text into one of verbd_entry's fixed fields, always NUL-terminated.
template <std::size_t N>
void copy_field(char (&field)[N], std::string_view text) noexcept {
  auto n = text.size() < N ? text.size() : N - 1;
  std::memcpy(field, text.data(), n);
  field[n] = '\0';
}

// The folder under the root where the files backend writes before renaming.
inline constexpr std::string_view scratch_folder = ".verbd-tmp";

}  // namespace verbd::store
