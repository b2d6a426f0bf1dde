// The host's own ASCII helpers, for the protocol parts of HTTP: field names,
// tokens and digits compare and classify by ASCII alone, whatever the locale.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace verbd::ascii {

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr char to_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return to_lower(x) == to_lower(y); });
}

// RFC 9110 §5.6.3: optional whitespace (spaces and tabs) removed at both ends.
constexpr std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 9110 §5.6.1: the next element of a comma-separated list, without the
// whitespace around it, taken off the front of `list`. An empty element
// comes back empty: the list rule allows them, and callers skip them.
constexpr std::string_view take_list_element(std::string_view& list) noexcept {
  auto comma = list.find(',');
  std::string_view element = trim_ows(list.substr(0, comma));
  list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
  return element;
}

inline std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), to_lower);
  return out;
}

}  // namespace verbd::ascii
