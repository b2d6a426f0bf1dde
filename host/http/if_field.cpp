#include "http/if_field.hpp"

#include "common/ascii.hpp"
#include "http/target.hpp"

namespace verbd::http {
namespace {

bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

void skip_spaces(std::string_view text, std::size_t& at) noexcept {
  while (at < text.size() && is_space(text[at])) ++at;
}

// Reads up to `close` from `text` at `at`, past it; false when it never comes.
bool read_until(std::string_view text, std::size_t& at, char close, std::string& out) {
  auto end = text.find(close, at);
  if (end == std::string_view::npos) return false;
  out.assign(text.substr(at, end - at));
  at = end + 1;
  return true;
}

// A Coded-URL of a tag, absolute or a path, as a clean path.
bool clean_resource(std::string_view url, std::string& path) {
  Target target;
  if (clean_target(url, "GET", target) != TargetError::none || target.path.empty() || target.path == "*")
    return false;
  path = target.path;
  return true;
}

// One List, after its '(': conditions up to the ')'.
bool parse_list(std::string_view text, std::size_t& at, IfList& list) {
  while (true) {
    skip_spaces(text, at);
    if (at >= text.size()) return false;
    if (text[at] == ')') {
      ++at;
      return !list.conditions.empty();
    }
    IfCondition condition;
    if (ascii::iequals(text.substr(at, 3), "not")) {
      condition.negated = true;
      at += 3;
      skip_spaces(text, at);
    }
    if (at >= text.size()) return false;
    char open = text[at++];
    if (open != '<' && open != '[') return false;
    condition.is_token = open == '<';
    if (!read_until(text, at, open == '<' ? '>' : ']', condition.value)) return false;
    list.conditions.push_back(std::move(condition));
  }
}

}  // namespace

bool parse_if_field(std::string_view text, std::vector<IfList>& lists) {
  std::string tag;
  bool tag_has_list = true;
  std::size_t at = 0;
  while (true) {
    while (at < text.size() && (is_space(text[at]) || text[at] == ',')) ++at;
    if (at >= text.size()) return !lists.empty() && tag_has_list;
    char c = text[at++];
    if (c == '<') {
      std::string url;
      if (!tag_has_list || !read_until(text, at, '>', url) || !clean_resource(url, tag)) return false;
      tag_has_list = false;
    } else if (c == '(') {
      IfList list;
      list.resource = tag;
      if (!parse_list(text, at, list)) return false;
      lists.push_back(std::move(list));
      tag_has_list = true;
    } else {
      return false;
    }
  }
}

}  // namespace verbd::http
