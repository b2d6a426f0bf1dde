#include "http/target.hpp"

#include <boost/url/decode_view.hpp>
#include <boost/url/parse.hpp>

#include <array>

namespace verbd::http {
namespace {

// Appends one decoded segment to `path`, or resolves it as a dot-segment
// (which, like an empty segment, leaves the path naming a collection).
TargetError push_segment(boost::urls::pct_string_view encoded, std::string& path, bool& names_collection) {
  auto mark = path.size();
  path.push_back('/');
  for (char c : *encoded) {
    if (c == '/' || c == '\0') return TargetError::bad_segment;
    path.push_back(c);
  }
  std::string_view segment(path.data() + mark + 1, path.size() - mark - 1);
  names_collection = segment.empty() || segment == "." || segment == "..";
  if (segment.empty() || segment == ".") {
    path.resize(mark);
  } else if (segment == "..") {
    path.resize(mark);
    if (path.empty()) return TargetError::escapes_root;
    path.resize(path.rfind('/'));
  }
  return TargetError::none;
}

TargetError clean_path(boost::urls::url_view url, Target& out) {
  out.path.clear();
  bool ends_in_collection = true;  // an empty path is "/"
  for (auto encoded : url.encoded_segments()) {
    auto error = push_segment(encoded, out.path, ends_in_collection);
    if (error != TargetError::none) return error;
  }
  if (ends_in_collection || out.path.empty()) out.path.push_back('/');
  out.query = url.has_query() ? std::string_view(url.encoded_query()) : std::string_view{};
  return TargetError::none;
}

// RFC 3986 pchar without '%' (so nothing to decode), and '/'.
constexpr auto plain_path_chars = [] {
  std::array<bool, 256> allowed{};
  for (int c = '0'; c <= '9'; ++c) allowed[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) allowed[c] = allowed[c - 'a' + 'A'] = true;
  for (char c : std::string_view("-._~!$&'()*+,;=:@/")) allowed[static_cast<unsigned char>(c)] = true;
  return allowed;
}();

// Most targets are an origin-form path of plain characters whose segments
// are neither empty, "." nor "..": already clean, so copied as they are.
bool is_plain_and_clean(std::string_view target) noexcept {
  if (target.empty() || target.front() != '/') return false;
  std::size_t segment_start = 1;
  for (std::size_t i = 1; i <= target.size(); ++i) {
    char c = i < target.size() ? target[i] : '/';
    if (c == '?') return false;  // a query is left to Boost.URL to check
    if (!plain_path_chars[static_cast<unsigned char>(c)]) return false;
    if (c != '/') continue;
    auto segment = target.substr(segment_start, i - segment_start);
    bool last = i == target.size();
    if ((segment.empty() && !last) || segment == "." || segment == "..") return false;
    segment_start = i + 1;
  }
  return true;
}

}  // namespace

TargetError clean_target(std::string_view target, std::string_view method, Target& out) {
  if (method != "CONNECT" && is_plain_and_clean(target)) {
    out.authority = {};
    out.path.assign(target);
    out.query = {};
    return TargetError::none;
  }
  return clean_target_by_url(target, method, out);
}

TargetError clean_target_by_url(std::string_view target, std::string_view method, Target& out) {
  out.authority = {};
  if (target == "*") {
    if (method != "OPTIONS") return TargetError::wrong_form_for_method;
    out.path.assign(1, '*');
    out.query = {};
    return TargetError::none;
  }
  if (method == "CONNECT") {
    auto authority = boost::urls::parse_authority(target);
    if (!authority || !authority->has_port()) return TargetError::malformed;
    out.path.clear();
    out.query = {};
    out.authority = target;
    return TargetError::none;
  }
  if (!target.empty() && target.front() == '/') {
    auto url = boost::urls::parse_origin_form(target);
    return url ? clean_path(*url, out) : TargetError::malformed;
  }
  auto url = boost::urls::parse_absolute_uri(target);
  if (!url || !url->has_authority()) return TargetError::malformed;
  out.authority = url->encoded_authority();
  return clean_path(*url, out);
}

const char* describe(TargetError error) noexcept {
  switch (error) {
    case TargetError::none:
      return "";
    case TargetError::malformed:
      return "malformed request target";
    case TargetError::escapes_root:
      return "path leads outside the root";
    case TargetError::bad_segment:
      return "path holds an encoded '/' or NUL";
    case TargetError::wrong_form_for_method:
      return "this target form is not allowed with this method";
  }
  return "";
}

}  // namespace verbd::http
