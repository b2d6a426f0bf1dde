#include "http/range.hpp"

#include "common/ascii.hpp"

#include <verbd/http.hpp>

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>
#include <string>

namespace verbd::http {
namespace {

constexpr std::uint64_t no_end = std::numeric_limits<std::uint64_t>::max();

// 1*DIGIT. A number too large for 64 bits is past the end of anything, so
// it reads as the largest there is.
std::optional<std::uint64_t> parse_digits(std::string_view text) noexcept {
  if (text.empty() || !std::all_of(text.begin(), text.end(), ascii::is_digit)) return std::nullopt;
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error == std::errc::result_out_of_range) return no_end;
  return value;
}

// One range-spec (§14.1.1): "first-last", "first-" or "-suffix".
RangeAsked parse_spec(std::string_view spec, std::uint64_t size) noexcept {
  auto dash = spec.find('-');
  if (dash == std::string_view::npos) return {};
  if (dash == 0) {  // the last `suffix` bytes, or all of them when there are fewer
    auto suffix = parse_digits(spec.substr(1));
    if (!suffix) return {};
    if (*suffix == 0) return {RangeAsked::Kind::unsatisfiable};
    std::uint64_t length = std::min(*suffix, size);
    return {RangeAsked::Kind::part, size - length, length};
  }
  auto first = parse_digits(spec.substr(0, dash));
  auto last = dash + 1 == spec.size() ? std::optional(no_end) : parse_digits(spec.substr(dash + 1));
  if (!first || !last || *last < *first) return {};
  if (*first >= size) return {RangeAsked::Kind::unsatisfiable};
  std::uint64_t end = std::min(*last, size - 1);
  return {RangeAsked::Kind::part, *first, end - *first + 1};
}

// §13.1.5: an entity tag matches the current one by the strong comparison
// (neither weak); a date, the Last-Modified exactly.
bool if_range_holds(std::string_view validator, const Response& response) {
  validator = ascii::trim_ows(validator);
  if (validator.starts_with("W/")) return false;
  if (validator.starts_with('"')) {
    std::string_view etag = response.field("ETag");
    return !etag.starts_with("W/") && etag == validator;
  }
  auto date = verbd::parse_http_date(validator);
  auto modified = verbd::parse_http_date(response.field("Last-Modified"));
  return date && modified && *date == *modified;
}

// The Range field, when the request has exactly one.
std::optional<std::string_view> only_range_field(const Request& request) {
  std::optional<std::string_view> found;
  for (const auto& field : request.headers) {
    if (!ascii::iequals(field.name, "Range")) continue;
    if (found) return std::nullopt;  // two: not a valid field (§5.3)
    found = field.value;
  }
  return found;
}

void answer_unsatisfiable(Response& response) {
  std::string length = "bytes */" + std::to_string(response.content_length());
  response.refuse(416, "the range asked for starts past the end of the resource");
  response.add_field("Content-Range", length);
}

}  // namespace

RangeAsked parse_range(std::string_view field, std::uint64_t size) noexcept {
  auto equals = field.find('=');
  if (equals == std::string_view::npos || !ascii::iequals(ascii::trim_ows(field.substr(0, equals)), "bytes"))
    return {};
  std::string_view set = field.substr(equals + 1);
  std::optional<std::string_view> only;
  while (!set.empty()) {  // 1#range-spec: empty elements are allowed, and ignored (§5.6.1)
    auto comma = set.find(',');
    std::string_view spec = ascii::trim_ows(set.substr(0, comma));
    set = comma == std::string_view::npos ? std::string_view() : set.substr(comma + 1);
    if (spec.empty()) continue;
    if (only) return {};  // several parts: multipart/byteranges is not made, the whole is sent
    only = spec;
  }
  if (!only || size == 0) return {};
  return parse_spec(*only, size);
}

void answer_range(const Request& request, Response& response) {
  bool get = request.method == "GET";
  if (response.status() != 200 || !response.body_is_resource() || (!get && request.method != "HEAD")) return;
  std::string_view declared = response.field("Accept-Ranges");  // the plugin's "none" keeps it whole
  if (declared.empty()) response.add_field("Accept-Ranges", "bytes");
  if (!get || (!declared.empty() && !ascii::iequals(declared, "bytes"))) return;
  auto field = only_range_field(request);
  if (!field) return;
  std::string_view if_range = request.header("If-Range");
  if (!if_range.empty() && !if_range_holds(if_range, response)) return;
  std::uint64_t size = response.content_length();
  RangeAsked asked = parse_range(*field, size);
  if (asked.kind == RangeAsked::Kind::unsatisfiable) return answer_unsatisfiable(response);
  if (asked.kind != RangeAsked::Kind::part) return;
  response.set_status(206);
  response.add_field("Content-Range", "bytes " + std::to_string(asked.first) + "-" +
                                          std::to_string(asked.first + asked.length - 1) + "/" +
                                          std::to_string(size));
  response.keep_part(asked.first, asked.length);
}

}  // namespace verbd::http
