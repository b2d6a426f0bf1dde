// Small HTTP helpers for plugin authors: HTTP-dates and entity-tag lists as
// RFC 9110 §5.6.7 and §8.8.3 define them, tokens, percent-encoding.
// Header-only. (verbd formats its own Date field with format_http_date.)
#ifndef VERBD_HTTP_HPP
#define VERBD_HTTP_HPP

#include <verbd/detail/text.hpp>

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace verbd {

namespace detail {

// The date of a day counted from 1970-01-01, in the proleptic Gregorian
// calendar (H. Hinnant's civil_from_days, "chrono-Compatible Low-Level Date
// Algorithms"). gmtime_r would say the same, but glibc's takes the time
// zone's lock at every call, and the GET plugin formats a date for every
// response.
struct CivilDate {
  std::int64_t year;
  unsigned month;  // 1 to 12
  unsigned day;    // 1 to 31
};
constexpr CivilDate civil_from_days(std::int64_t days) noexcept {
  days += 719468;  // from 0000-03-01, so that a leap day ends its year
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;  // 400-year cycles
  const auto day_of_era = static_cast<unsigned>(days - era * 146097);
  const unsigned year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned month_from_march = (5 * day_of_year + 2) / 153;
  const unsigned day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
  const unsigned month = month_from_march < 10 ? month_from_march + 3 : month_from_march - 9;
  return {static_cast<std::int64_t>(year_of_era) + era * 400 + (month <= 2), month, day};
}

}  // namespace detail

// IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT". Writes 29 bytes.
inline void format_http_date(std::int64_t unix_seconds, char out[29]) noexcept {
  static constexpr char days[] = "SunMonTueWedThuFriSat";
  static constexpr char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  std::int64_t day_number = (unix_seconds >= 0 ? unix_seconds : unix_seconds - 86399) / 86400;
  auto second_of_day = static_cast<int>(unix_seconds - day_number * 86400);
  auto date = detail::civil_from_days(day_number);
  auto weekday = static_cast<int>((day_number % 7 + 11) % 7);  // 1970-01-01 was a Thursday (4)
  auto two = [](char* p, int v) {
    p[0] = char('0' + v / 10);
    p[1] = char('0' + v % 10);
  };
  auto year = static_cast<int>(date.year);
  char* p = out;
  p[0] = days[weekday * 3], p[1] = days[weekday * 3 + 1], p[2] = days[weekday * 3 + 2];
  p[3] = ',', p[4] = ' ';
  two(p + 5, static_cast<int>(date.day));
  p[7] = ' ';
  const char* month = months + (date.month - 1) * 3;
  p[8] = month[0], p[9] = month[1], p[10] = month[2];
  p[11] = ' ';
  two(p + 12, (year / 100) % 100);
  two(p + 14, year % 100);
  p[16] = ' ';
  two(p + 17, second_of_day / 3600);
  p[19] = ':';
  two(p + 20, second_of_day / 60 % 60);
  p[22] = ':';
  two(p + 23, second_of_day % 60);
  p[25] = ' ', p[26] = 'G', p[27] = 'M', p[28] = 'T';
}

inline std::string http_date(std::int64_t unix_seconds) {
  char buffer[29];
  format_http_date(unix_seconds, buffer);
  return std::string(buffer, sizeof buffer);
}

// Accepts the three formats RFC 9110 §5.6.7 obliges a recipient to accept.
inline std::optional<std::int64_t> parse_http_date(std::string_view text) {
  static constexpr const char* formats[] = {
      "%a, %d %b %Y %H:%M:%S GMT",  // IMF-fixdate
      "%A, %d-%b-%y %H:%M:%S GMT",  // obsolete RFC 850
      "%a %b %e %H:%M:%S %Y",       // obsolete asctime
  };
  std::string copy(text);
  for (const char* format : formats) {
    std::tm tm{};
    const char* end = strptime(copy.c_str(), format, &tm);
    if (end != nullptr && *end == '\0') return static_cast<std::int64_t>(timegm(&tm));
  }
  return std::nullopt;
}

// RFC 9110 §5.6.3: optional whitespace (spaces and tabs) removed at both ends.
inline std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Does a list of entity-tags (If-Match, If-None-Match) match `etag`?
// "*" matches any existing representation. Weak comparison ignores "W/".
inline bool etag_list_matches(std::string_view list, std::string_view etag, bool weak) {
  auto strip_weak = [](std::string_view s) { return s.substr(0, 2) == "W/" ? s.substr(2) : s; };
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = trim_ows(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (item == "*") return true;
    bool item_weak = item.substr(0, 2) == "W/";
    if (weak ? strip_weak(item) == strip_weak(etag) : (!item_weak && item == etag)) return true;
  }
  return false;
}

// RFC 9110 §5.6.2: a token, as methods and field names must be.
using detail::is_token;

// ASCII case-insensitive comparison, as field names and most tokens need.
using detail::iequals;

// A clean path as a URI path (for Location): every byte outside RFC 3986's
// unreserved set, '/' and the sub-delimiters is percent-encoded.
inline std::string percent_encode_path(std::string_view path) {
  static constexpr char hex[] = "0123456789ABCDEF";
  static constexpr std::string_view kept = "-._~/!$&'()*+,;=:@";
  std::string out;
  out.reserve(path.size());
  for (unsigned char c : path) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 kept.find(static_cast<char>(c)) != std::string_view::npos;
    if (plain) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

}  // namespace verbd

#endif  // VERBD_HTTP_HPP
