#include "dispatch/conditions.hpp"

#include "common/ascii.hpp"
#include "http/target.hpp"

#include <verbd/detail/store_rules.hpp>
#include <verbd/http.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

namespace verbd::dispatch {
namespace {

using store::Lock;

// One condition of an If list: a state token (<...>) or an entity tag ([...]).
struct Condition {
  bool negated = false;
  bool is_token = false;
  std::string value;  // the token, or the entity tag with its quotes
};

struct List {
  std::string resource;  // the tagged resource's clean path; empty: the request's
  std::vector<Condition> conditions;
};

bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

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
  http::Target target;
  if (http::clean_target(url, "GET", target) != http::TargetError::none || target.path.empty()) return false;
  path = target.path;
  return true;
}

bool parse_list(std::string_view text, std::size_t& at, List& list) {
  while (true) {
    while (at < text.size() && is_space(text[at])) ++at;
    if (at >= text.size()) return false;
    if (text[at] == ')') {
      ++at;
      return !list.conditions.empty();
    }
    Condition condition;
    if (ascii::iequals(text.substr(at, 3), "not")) {
      condition.negated = true;
      at += 3;
      while (at < text.size() && is_space(text[at])) ++at;
    }
    if (at >= text.size()) return false;
    char open = text[at++];
    if (open != '<' && open != '[') return false;
    condition.is_token = open == '<';
    if (!read_until(text, at, open == '<' ? '>' : ']', condition.value)) return false;
    list.conditions.push_back(std::move(condition));
  }
}

// RFC 4918 §10.4: 1*No-tag-list | 1*Tagged-list. Several If fields are read
// as one. False when it does not parse.
bool parse_if(std::string_view text, std::vector<List>& lists) {
  std::string tag;
  std::size_t at = 0;
  while (true) {
    while (at < text.size() && (is_space(text[at]) || text[at] == ',')) ++at;
    if (at >= text.size()) return !lists.empty();
    char c = text[at++];
    if (c == '<') {
      std::string url;
      if (!read_until(text, at, '>', url) || !clean_resource(url, tag)) return false;
    } else if (c == '(') {
      List list;
      list.resource = tag;
      if (!parse_list(text, at, list)) return false;
      lists.push_back(std::move(list));
    } else {
      return false;
    }
  }
}

bool strong_match(std::string_view a, std::string_view b) noexcept {
  return !a.empty() && !a.starts_with("W/") && a == b;
}

// The path of what is there, a collection named with its '/'.
std::string as_stored(store::Store& store, std::string_view path, store::Entry& entry) {
  entry = store::Entry{};
  entry.struct_size = sizeof entry;
  store.stat(path, entry);
  std::string stored(path);
  if (entry.kind == VERBD_ENTRY_COLLECTION && !detail::names_collection(stored)) stored += '/';
  return stored;
}

class Evaluation {
 public:
  Evaluation(store::Store& store, std::vector<Lock> locks) : store_(store), locks_(std::move(locks)) {}

  bool holds(const List& list, const std::string& request_path) {
    const std::string& path = list.resource.empty() ? request_path : list.resource;
    for (const Condition& condition : list.conditions)
      if (matches(condition, path) == condition.negated) return false;
    return true;
  }

 private:
  bool matches(const Condition& condition, const std::string& path) {
    if (condition.is_token)
      return std::any_of(locks_.begin(), locks_.end(), [&](const Lock& lock) {
        return lock.token == condition.value && (lock.covers(path) || lock.covers(path + "/"));
      });
    auto [at, fresh] = entries_.try_emplace(path);
    if (fresh) as_stored(store_, path, at->second);
    return at->second.kind == VERBD_ENTRY_RESOURCE && strong_match(condition.value, at->second.etag);
  }

  store::Store& store_;
  std::vector<Lock> locks_;
  std::map<std::string, store::Entry> entries_;
};

// Methods that change nothing a lock protects.
bool changes_nothing(std::string_view method) noexcept {
  for (std::string_view safe : {"GET", "HEAD", "OPTIONS", "PROPFIND", "TRACE", "REPORT", "LOCK", "UNLOCK"})
    if (method == safe) return true;
  return false;
}

// What one request changes: a path, with everything below it when `tree`,
// and the collection holding it when it adds or removes a member there.
struct Change {
  std::string path;
  bool tree = false;
  bool membership = false;
};

std::vector<Change> changes_of(std::string_view method, store::Store& store, const std::string& path,
                               const std::string& destination) {
  store::Entry entry;
  std::string stored = as_stored(store, path, entry);
  bool exists = entry.kind != VERBD_ENTRY_NONE;
  if (method == "DELETE") return {{stored, true, true}};
  std::vector<Change> changes;
  if (method == "MOVE") changes.push_back({stored, true, true});
  if ((method == "MOVE" || method == "COPY") && !destination.empty()) {
    std::string target = as_stored(store, destination, entry);
    changes.push_back({target, true, true});
  }
  if (method != "MOVE" && method != "COPY") changes.push_back({stored, false, !exists});
  return changes;
}

// The first lock that `change` runs into without its token.
const Lock* unheld_lock(const std::vector<Lock>& locks, const Change& change,
                        const std::vector<std::string>& tokens) {
  std::string parent(detail::parent_of(change.path));
  for (const Lock& lock : locks) {
    bool applies = lock.covers(change.path) || (change.tree && detail::is_within(lock.root, change.path)) ||
                   (change.membership && !parent.empty() && lock.root == parent);
    if (applies && std::find(tokens.begin(), tokens.end(), lock.token) == tokens.end()) return &lock;
  }
  return nullptr;
}

// A path as an href inside XML: percent-encoded, '&' too, so that no byte
// of it needs an XML escape ('<', '>' and '"' are encoded already).
std::string href(std::string_view path) {
  std::string out;
  for (char c : percent_encode_path(path)) out += c == '&' ? std::string("%26") : std::string(1, c);
  return out;
}

void refuse_locked(const Lock& lock, http::Response& response) {
  response.reset(response.answers_head());
  response.set_status(423);
  response.add_field("Content-Type", "application/xml; charset=utf-8");
  response.append(
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error "
      "xmlns:D=\"DAV:\"><D:lock-token-submitted><D:href>" +
      href(lock.root) + "</D:href></D:lock-token-submitted></D:error>\n");
}

// Host "a" and "a:80" are one authority (RFC 9110 §4.2.3: http's default port).
bool same_authority(std::string_view a, std::string_view b) noexcept {
  auto without_default_port = [](std::string_view authority) {
    return authority.ends_with(":80") ? authority.substr(0, authority.size() - 3) : authority;
  };
  return ascii::iequals(without_default_port(a), without_default_port(b));
}

std::string if_fields(const http::Request& request) {
  std::string joined;
  for (const auto& field : request.headers)
    if (ascii::iequals(field.name, "If")) joined.append(field.value).append(" ");
  return joined;
}

}  // namespace

bool resolve_destination(const http::Request& request, std::string& destination, http::Response& response) {
  destination.clear();
  std::string_view value = request.header("Destination");
  if (value.empty()) return true;
  http::Target target;
  if (http::clean_target(value, "GET", target) != http::TargetError::none || target.path.empty() ||
      target.path == "*") {
    response.refuse(400, "the Destination field is not a URL verbd can serve");
    return false;
  }
  if (!target.authority.empty() && !same_authority(target.authority, request.host)) {
    response.refuse(502, "the Destination field names another server");
    return false;
  }
  destination = target.path;
  return true;
}

bool conditions_hold(const http::Request& request, const std::string& path, const std::string& destination,
                     store::Store& store, http::Response& response) {
  bool changes = !changes_nothing(request.method);
  std::string if_text = changes || !request.header("If").empty() ? if_fields(request) : std::string();
  if (!changes && if_text.empty()) return true;
  std::vector<List> lists;
  if (!if_text.empty() && !parse_if(if_text, lists)) {
    response.refuse(400, "the If field does not parse (RFC 4918 section 10.4)");
    return false;
  }
  std::vector<Lock> locks = store.locks().affecting("/", true);
  if (!lists.empty()) {
    Evaluation evaluation(store, locks);
    if (std::none_of(lists.begin(), lists.end(),
                     [&](const List& list) { return evaluation.holds(list, path); })) {
      response.refuse(412, "no list of the If field holds (RFC 4918 section 10.4)");
      return false;
    }
  }
  if (!changes || locks.empty()) return true;
  std::vector<std::string> tokens;
  for (const List& list : lists)
    for (const Condition& condition : list.conditions)
      if (condition.is_token && !condition.negated) tokens.push_back(condition.value);
  for (const Change& change : changes_of(request.method, store, path, destination))
    if (const Lock* lock = unheld_lock(locks, change, tokens)) {
      refuse_locked(*lock, response);
      return false;
    }
  return true;
}

}  // namespace verbd::dispatch
