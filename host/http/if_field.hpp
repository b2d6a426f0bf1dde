// The If field of WebDAV (RFC 4918 §10.4): lists of conditions — state
// tokens (<urn:uuid:...>) and entity tags ([...]), each possibly under
// "Not" — either about the request's own resource or tagged with the
// resource they are about (<http://host/path>). Parsed here; evaluated
// against locks and the store in dispatch/conditions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace verbd::http {

struct IfCondition {
  bool negated = false;
  bool is_token = false;  // a state token; else an entity tag
  std::string value;      // the token without its <>, or the entity tag with its quotes
};

struct IfList {
  std::string resource;  // the tag's clean path; empty: the request's resource
  std::vector<IfCondition> conditions;
};

// 1*No-tag-list | 1*Tagged-list; several If fields are joined with spaces
// first. False when it does not parse (a 400): a list without a condition,
// a tag without a list, an unclosed <, [ or (, a tag that is no clean URL.
bool parse_if_field(std::string_view text, std::vector<IfList>& lists);

}  // namespace verbd::http
