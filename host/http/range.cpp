#include "http/range.hpp"

#include "common/ascii.hpp"

#include <verbd/detail/rules.hpp>
#include <verbd/http.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
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
enum class Spec { invalid, unsatisfiable, part };
Spec parse_spec(std::string_view spec, std::uint64_t size, ByteRange& part) noexcept {
  auto dash = spec.find('-');
  if (dash == std::string_view::npos) return Spec::invalid;
  if (dash == 0) {  // the last `suffix` bytes, or all of them when there are fewer
    auto suffix = parse_digits(spec.substr(1));
    if (!suffix) return Spec::invalid;
    if (*suffix == 0) return Spec::unsatisfiable;
    std::uint64_t length = std::min(*suffix, size);
    part = {size - length, length};
    return Spec::part;
  }
  auto first = parse_digits(spec.substr(0, dash));
  auto last = dash + 1 == spec.size() ? std::optional(no_end) : parse_digits(spec.substr(dash + 1));
  if (!first || !last || *last < *first) return Spec::invalid;
  if (*first >= size) return Spec::unsatisfiable;
  std::uint64_t end = std::min(*last, size - 1);
  part = {*first, end - *first + 1};
  return Spec::part;
}

// Adds `part` to `parts`, asked in ascending order: as one with the part
// before when they overlap or lie closer than a part's framing in a
// multipart body (§15.3.7.2). False when it starts before the part before.
bool add_in_order(std::vector<ByteRange>& parts, ByteRange part) {
  constexpr std::uint64_t framing = 80;  // "--boundary", Content-Type, Content-Range: §15.3.7.2's figure
  if (parts.empty()) {
    parts.push_back(part);
    return true;
  }
  ByteRange& before = parts.back();
  if (part.first < before.first) return false;
  std::uint64_t before_end = before.first + before.length;  // neither end passes the size: no overflow
  if (part.first <= before_end || part.first - before_end < framing) {
    before.length = std::max(before_end, part.first + part.length) - before.first;
    return true;
  }
  parts.push_back(part);
  return true;
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
  response.refuse(416, "every part asked for starts past the end of the resource");
  response.add_field("Content-Range", length);
}

std::string content_range(ByteRange part, std::uint64_t size) {
  return "bytes " + std::to_string(part.first) + "-" + std::to_string(part.first + part.length - 1) + "/" +
         std::to_string(size);
}

void answer_part(Response& response, ByteRange part, std::uint64_t size) {
  response.set_status(206);
  response.add_field("Content-Range", content_range(part, size));
  response.keep_part(part.first, part.length);
}

// Sixteen hex digits from the kernel's randomness, new for each answer: a
// resource cannot be written to hold the boundary of the answer it is in.
std::string new_boundary() {
  std::uint64_t random = 0;
  ::arc4random_buf(&random, sizeof random);
  char digits[17];
  std::snprintf(digits, sizeof digits, "%016llx", static_cast<unsigned long long>(random));
  return digits;
}

// The parts as one multipart/byteranges body (§14.6), each with the
// representation's Content-Type and its own Content-Range. Left whole (200)
// when the parts are too large to copy into memory, or when the resource's
// file no longer has them.
void answer_parts(Response& response, const std::vector<ByteRange>& parts, std::uint64_t size) {
  std::uint64_t total = 0;
  for (const ByteRange& part : parts) total += part.length;
  if (total > max_multipart_bytes) return;
  std::string media_type(response.field("Content-Type"));
  if (media_type.empty()) media_type = detail::default_media_type;  // what the whole would say
  std::string boundary = new_boundary();
  std::string body;
  body.reserve(total + parts.size() * (boundary.size() + media_type.size() + 80));
  for (const ByteRange& part : parts) {
    body.append("--").append(boundary).append("\r\nContent-Type: ").append(media_type);
    body.append("\r\nContent-Range: ").append(content_range(part, size)).append("\r\n\r\n");
    if (!response.copy_part(part.first, part.length, body)) return;
    body.append("\r\n");
  }
  body.append("--").append(boundary).append("--\r\n");
  response.set_status(206);
  response.replace_field("Content-Type", "multipart/byteranges; boundary=" + boundary);
  response.replace_body(std::move(body));
}

}  // namespace

RangeAsked parse_range(std::string_view field, std::uint64_t size) {
  auto equals = field.find('=');
  if (equals == std::string_view::npos || !ascii::iequals(ascii::trim_ows(field.substr(0, equals)), "bytes"))
    return {};
  if (size == 0) return {};  // no part of nothing is a part
  std::string_view set = field.substr(equals + 1);
  RangeAsked asked;
  std::size_t specs = 0;
  bool unsatisfiable = false;
  while (!set.empty()) {  // 1#range-spec: empty elements are allowed, and ignored (§5.6.1)
    std::string_view spec = ascii::take_list_element(set);
    if (spec.empty()) continue;
    if (++specs > max_parts) return {};
    ByteRange part;
    switch (parse_spec(spec, size, part)) {
      case Spec::invalid:
        return {};
      case Spec::unsatisfiable:
        unsatisfiable = true;  // left out; the others are served (§14.1.1)
        break;
      case Spec::part:
        if (!add_in_order(asked.parts, part)) return {};
        break;
    }
  }
  if (!asked.parts.empty())
    asked.kind = RangeAsked::Kind::parts;
  else if (unsatisfiable)
    asked.kind = RangeAsked::Kind::unsatisfiable;
  return asked;
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
  if (asked.kind != RangeAsked::Kind::parts) return;
  if (asked.parts.size() == 1) return answer_part(response, asked.parts.front(), size);
  answer_parts(response, asked.parts, size);
}

}  // namespace verbd::http
