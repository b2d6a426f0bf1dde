#include "dispatch/conditions.hpp"

#include "common/ascii.hpp"
#include "http/if_field.hpp"
#include "http/target.hpp"

#include <verbd/detail/store_rules.hpp>
#include <verbd/http.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

namespace verbd::dispatch {
namespace {

using http::IfCondition;
using http::IfList;
using store::Lock;

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

  bool holds(const IfList& list, const std::string& request_path) {
    const std::string& path = list.resource.empty() ? request_path : list.resource;
    for (const IfCondition& condition : list.conditions)
      if (matches(condition, path) == condition.negated) return false;
    return true;
  }

 private:
  bool matches(const IfCondition& condition, const std::string& path) {
    if (condition.is_token)
      return std::any_of(locks_.begin(), locks_.end(), [&](const Lock& lock) {
        return lock.token == condition.value && lock.covers(path);
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
struct Planned {
  std::string path;
  bool tree = false;
  bool membership = false;

  store::Change change() const noexcept {
    return {path, tree, membership ? store::Change::Membership::yes : store::Change::Membership::no};
  }
};

std::vector<Planned> changes_of(std::string_view method, store::Store& store, const std::string& path,
                                const std::string& destination) {
  store::Entry entry;
  std::string stored = as_stored(store, path, entry);
  bool exists = entry.kind != VERBD_ENTRY_NONE;
  if (method == "DELETE") return {{stored, true, true}};
  std::vector<Planned> changes;
  if (method == "MOVE") changes.push_back({stored, true, true});
  if ((method == "MOVE" || method == "COPY") && !destination.empty()) {
    std::string target = as_stored(store, destination, entry);
    changes.push_back({target, true, true});
  }
  if (method != "MOVE" && method != "COPY") changes.push_back({stored, false, !exists});
  return changes;
}

// A path as an href inside XML: percent-encoded, '&' too, so that no byte
// of it needs an XML escape ('<', '>' and '"' are encoded already).
std::string href(std::string_view path) {
  std::string out;
  for (char c : percent_encode_path(path)) out += c == '&' ? std::string("%26") : std::string(1, c);
  return out;
}

}  // namespace

void answer_locked(const Lock& lock, http::Response& response) {
  response.reset(response.answers_head());
  response.set_status(423);
  response.add_field("Content-Type", "application/xml; charset=utf-8");
  response.append(
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error "
      "xmlns:D=\"DAV:\"><D:lock-token-submitted><D:href>" +
      href(lock.root) + "</D:href></D:lock-token-submitted></D:error>\n");
}

namespace {

// Host "a" and "a:80" are one authority (RFC 9110 §4.2.3: http's default port).
bool same_authority(std::string_view a, std::string_view b) noexcept {
  auto without_default_port = [](std::string_view authority) {
    return authority.ends_with(":80") ? authority.substr(0, authority.size() - 3) : authority;
  };
  return ascii::iequals(without_default_port(a), without_default_port(b));
}

// The state tokens the lists name, but for those negated ("Not <token>").
std::vector<std::string> tokens_in(const std::vector<IfList>& lists) {
  std::vector<std::string> tokens;
  for (const IfList& list : lists)
    for (const IfCondition& condition : list.conditions)
      if (condition.is_token && !condition.negated) tokens.push_back(condition.value);
  return tokens;
}

std::string if_fields(const http::Request& request) {
  std::string joined;
  for (const auto& field : request.headers)
    if (ascii::iequals(field.name, "If")) joined.append(field.value).append(" ");
  return joined;
}

// Fills `destination` (empty when the request has none). False, with
// `response` answered, when the request is refused.
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

// For the request on `path` (clean) with `destination` (as above). False,
// with `response` answered (412 or 423, or 400 for an If field that does
// not parse), when the request may not go ahead.
bool conditions_hold(const http::Request& request, const std::string& path, const std::string& destination,
                     store::Store& store, http::Response& response) {
  bool changes = !changes_nothing(request.method);
  std::string if_text = changes || !request.header("If").empty() ? if_fields(request) : std::string();
  if (!changes && if_text.empty()) return true;
  std::vector<IfList> lists;
  if (!if_text.empty() && !http::parse_if_field(if_text, lists)) {
    response.refuse(400, "the If field does not parse (RFC 4918 section 10.4)");
    return false;
  }
  std::vector<Lock> locks = store.locks().affecting("/", true);
  if (!lists.empty()) {
    Evaluation evaluation(store, locks);
    if (std::none_of(lists.begin(), lists.end(),
                     [&](const IfList& list) { return evaluation.holds(list, path); })) {
      response.refuse(412, "no list of the If field holds (RFC 4918 section 10.4)");
      return false;
    }
  }
  if (!changes || locks.empty()) return true;
  std::vector<std::string> tokens = tokens_in(lists);
  for (const Planned& planned : changes_of(request.method, store, path, destination))
    if (const Lock* lock = store::unheld_lock(locks, planned.change(), tokens, {})) {
      answer_locked(*lock, response);
      return false;
    }
  return true;
}

}  // namespace

bool checks_pass(const http::Request& request, const std::string& path, std::string& destination,
                 bool check_conditions, store::Store& store, http::Response& response) {
  if (!resolve_destination(request, destination, response)) return false;
  return !check_conditions || conditions_hold(request, path, destination, store, response);
}

std::vector<std::string> submitted_tokens(const http::Request& request) {
  std::string if_text = if_fields(request);
  std::vector<IfList> lists;
  if (if_text.empty() || !http::parse_if_field(if_text, lists)) return {};
  return tokens_in(lists);
}

}  // namespace verbd::dispatch
