// Fuzzes the parser of WebDAV's If field with any text.
//
// Besides crashes and sanitizer reports, it checks that what is accepted
// is well made (every list has a condition; a tag is a clean path), and
// that it reads back the same once written out again.
#include "http/if_field.hpp"

#include <verbd/detail/store_rules.hpp>
#include <verbd/http.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

std::string written(const std::vector<verbd::http::IfList>& lists) {
  std::string out;
  for (const auto& list : lists) {
    if (!list.resource.empty()) out += "<" + verbd::percent_encode_path(list.resource) + "> ";
    out += "(";
    for (const auto& condition : list.conditions) {
      if (condition.negated) out += "Not ";
      out += condition.is_token ? "<" + condition.value + "> " : "[" + condition.value + "] ";
    }
    out += ") ";
  }
  return out;
}

bool same(const std::vector<verbd::http::IfList>& a, const std::vector<verbd::http::IfList>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].resource != b[i].resource || a[i].conditions.size() != b[i].conditions.size()) return false;
    for (std::size_t j = 0; j < a[i].conditions.size(); ++j) {
      const auto &x = a[i].conditions[j], &y = b[i].conditions[j];
      if (x.negated != y.negated || x.is_token != y.is_token || x.value != y.value) return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<verbd::http::IfList> lists;
  if (!verbd::http::parse_if_field(text, lists)) return 0;
  require(!lists.empty());
  for (const auto& list : lists) {
    require(!list.conditions.empty());
    require(list.resource.empty() || verbd::detail::is_clean_path(list.resource));
  }
  std::vector<verbd::http::IfList> again;
  require(verbd::http::parse_if_field(written(lists), again));
  require(same(lists, again));
  return 0;
}
