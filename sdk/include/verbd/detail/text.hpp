// Not for plugin authors: the SDK's own small text helpers, used by its
// other headers. <verbd/http.hpp> offers the ones worth using in a plugin.
#ifndef VERBD_DETAIL_TEXT_HPP
#define VERBD_DETAIL_TEXT_HPP

#include <verbd/plugin.h>

#include <array>
#include <cstddef>
#include <string_view>

namespace verbd::detail {

inline std::string_view view(verbd_str s) noexcept { return {s.data, s.size}; }
inline verbd_str str(std::string_view s) noexcept { return {s.data(), s.size()}; }

constexpr char to_lower_ascii(char c) noexcept { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

// ASCII case-insensitive comparison, as HTTP field names and tokens need.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (to_lower_ascii(a[i]) != to_lower_ascii(b[i])) return false;
  return true;
}

// RFC 9110 §5.6.2: a token, as methods and field names must be.
inline bool is_token(std::string_view text) noexcept {
  static constexpr auto table = [] {
    std::array<bool, 256> allowed{};
    for (int c = '0'; c <= '9'; ++c) allowed[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) allowed[c] = allowed[c - 'a' + 'A'] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) allowed[static_cast<unsigned char>(c)] = true;
    return allowed;
  }();
  if (text.empty()) return false;
  for (char c : text)
    if (!table[static_cast<unsigned char>(c)]) return false;
  return true;
}

}  // namespace verbd::detail

#endif  // VERBD_DETAIL_TEXT_HPP
