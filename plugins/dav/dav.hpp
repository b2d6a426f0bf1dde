// What the WebDAV plugins (RFC 4918) share: the fields they read (Depth,
// Overwrite, Timeout, Lock-Token), hrefs, and the XML they answer with
// (multistatus, lock discovery). Each plugin is one file beside this one.
#pragma once

#include "xml.hpp"

#include <verbd/http.hpp>
#include <verbd/plugin.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dav {

inline constexpr std::string_view ns = "DAV:";
inline constexpr std::string_view xml_declaration = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";
inline constexpr std::string_view xml_type = "application/xml; charset=utf-8";

enum class Depth { zero, one, infinity };

// The Depth field (RFC 4918 §10.2); nothing when it is not one of its values.
inline std::optional<Depth> depth_of(const verbd::Request& request, Depth absent) {
  auto value = request.header("Depth");
  if (!value) return absent;
  auto text = verbd::trim_ows(*value);
  if (text == "0") return Depth::zero;
  if (text == "1") return Depth::one;
  if (verbd::iequals(text, "infinity")) return Depth::infinity;
  return std::nullopt;
}

// Overwrite (RFC 4918 §10.6): "T" unless the client says "F".
inline bool overwrite_of(const verbd::Request& request) {
  auto value = request.header("Overwrite");
  return !value || !verbd::iequals(verbd::trim_ows(*value), "F");
}

// The first timeout of a Timeout field (RFC 4918 §10.7) that verbd can
// read, in seconds: "Second-600" or "Infinite" (the longest there is).
inline std::int64_t timeout_of(const verbd::Request& request) {
  constexpr std::int64_t infinite = INT64_MAX / 2;
  auto value = request.header("Timeout");
  if (!value) return 3600;
  std::string_view rest = *value;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    auto item = verbd::trim_ows(rest.substr(0, comma));
    if (verbd::iequals(item, "Infinite")) return infinite;
    if (item.size() > 7 && verbd::iequals(item.substr(0, 7), "Second-")) {
      std::int64_t seconds = 0;
      auto digits = item.substr(7);
      if (std::from_chars(digits.data(), digits.data() + digits.size(), seconds).ec == std::errc{})
        return seconds;
    }
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return 3600;
}

// The state tokens in a field: "<urn:uuid:...>" in Lock-Token, or those of
// an If field's lists (not those under "Not").
inline std::vector<std::string> tokens_in(std::string_view field) {
  std::vector<std::string> tokens;
  int depth = 0;
  bool negated = false;
  for (std::size_t at = 0; at < field.size(); ++at) {
    char c = field[at];
    if (c == '[') {  // an entity tag: nothing in it counts
      at = std::min(field.find(']', at), field.size());
      continue;
    }
    if (c == '(') ++depth, negated = false;
    if (c == ')') --depth;
    if (c == 'N' || c == 'n') negated = negated || verbd::iequals(field.substr(at, 3), "not");
    if (c != '<') continue;
    auto close = field.find('>', at);
    if (close == std::string_view::npos) break;
    if ((depth > 0 || field.find('(') == std::string_view::npos) && !negated)
      tokens.emplace_back(field.substr(at + 1, close - at - 1));
    negated = false;
    at = close;
  }
  return tokens;
}

inline std::string href(std::string_view path) { return escaped(verbd::percent_encode_path(path)); }

inline std::string status_line(int status) {
  switch (status) {
    case 200:
      return "HTTP/1.1 200 OK";
    case 403:
      return "HTTP/1.1 403 Forbidden";
    case 404:
      return "HTTP/1.1 404 Not Found";
    case 409:
      return "HTTP/1.1 409 Conflict";
    case 423:
      return "HTTP/1.1 423 Locked";
    case 424:
      return "HTTP/1.1 424 Failed Dependency";
    case 507:
      return "HTTP/1.1 507 Insufficient Storage";
    default:
      return "HTTP/1.1 " + std::to_string(status) + " Error";
  }
}

// "{uri}local" as an element with no content: <local xmlns="uri"/>.
inline std::string empty_element(std::string_view clark) {
  auto close = clark.find('}');
  return "<" + std::string(clark.substr(close + 1)) + " xmlns=\"" +
         escaped(clark.substr(1, close - 1), true) + "\"/>";
}

inline std::string element(std::string_view clark, std::string_view content) {
  auto close = clark.find('}');
  std::string local(clark.substr(close + 1));
  return "<" + local + " xmlns=\"" + escaped(clark.substr(1, close - 1), true) + "\">" +
         std::string(content) + "</" + local + ">";
}

inline std::string clark(const Node& node) { return "{" + node.space + "}" + node.name; }

// The properties the store computes (RFC 4918 §15), which PROPPATCH may not change.
inline bool is_live(std::string_view clark_name) {
  if (!clark_name.starts_with("{DAV:}")) return false;
  std::string_view local = clark_name.substr(6);
  for (std::string_view name :
       {"creationdate", "displayname", "resourcetype", "getlastmodified", "getcontentlength",
        "getcontenttype", "getetag", "supportedlock", "lockdiscovery"})
    if (local == name) return true;
  return false;
}

// One lock as DAV:activelock (RFC 4918 §14.1).
inline std::string active_lock(const verbd::Lock& lock) {
  std::string timeout =
      lock.timeout_s > 0 ? "Second-" + std::to_string(lock.timeout_s) : std::string("Second-0");
  return "<D:activelock><D:locktype><D:write/></D:locktype><D:lockscope>" +
         std::string(lock.exclusive ? "<D:exclusive/>" : "<D:shared/>") + "</D:lockscope><D:depth>" +
         (lock.infinite ? "infinity" : "0") + "</D:depth>" + lock.owner + "<D:timeout>" + timeout +
         "</D:timeout><D:locktoken><D:href>" + escaped(lock.token) +
         "</D:href></D:locktoken><D:lockroot><D:href>" + href(lock.root) +
         "</D:href></D:lockroot></D:activelock>";
}

// The content of DAV:lockdiscovery.
inline std::string active_locks(const std::vector<verbd::Lock>& locks) {
  std::string out;
  for (const auto& lock : locks) out += active_lock(lock);
  return out;
}

// Sends an XML error body (RFC 4918 §16): <D:error><D:condition/></D:error>.
inline void refuse(verbd::Response& response, int status, std::string_view condition) {
  response.status(status);
  response.header("Content-Type", xml_type);
  response.append(std::string(xml_declaration) + "<D:error xmlns:D=\"DAV:\"><D:" + std::string(condition) +
                  "/></D:error>\n");
}

// The whole request body, in memory or in the file the host spooled it to.
inline bool read_body(const verbd::Content& content, std::string& body) {
  body.resize(static_cast<std::size_t>(content.size()));
  std::size_t got = 0;
  for (std::uint64_t at = 0; at < body.size(); at += got)
    if (content.read(at, body.data() + at, body.size() - at, got) != verbd::Status::ok || got == 0)
      return false;
  return true;
}

// A request body as XML: the root element, or nothing after answering 400
// (malformed, a DTD, too large or too deep). An empty body gives an
// empty Node (no name).
inline std::optional<Node> body_xml(const verbd::Request& request, verbd::Response& response,
                                    std::size_t max_bytes) {
  if (request.content().size() > max_bytes) {
    response.status(413);
    response.append("the XML body is larger than this plugin's max_xml_bytes\n");
    return std::nullopt;
  }
  std::string body;
  if (!read_body(request.content(), body)) {
    response.status(500);
    return std::nullopt;
  }
  if (verbd::trim_ows(body).empty()) return Node{};
  std::string error;
  auto root = Parser::parse(body, error);
  if (!root) {
    response.status(400);
    response.append(error + "\n");
  }
  return root;
}

}  // namespace dav

namespace dav {

// COPY and MOVE (RFC 4918 §9.8, §9.9): 201 when the destination was new,
// 204 when it was replaced; 412 when it exists and Overwrite is F; 409
// when the collection that would hold it is missing; 403 when source and
// destination are one, or one lies within the other.
inline void transfer(const verbd::Store& store, const verbd::Request& request, verbd::Response& response,
                     bool move) {
  if (request.destination().empty()) return response.status(400);
  auto depth = depth_of(request, Depth::infinity);
  if (!depth || *depth == Depth::one || (move && *depth != Depth::infinity)) return response.status(400);
  verbd::Entry source;
  verbd::Status status = store.stat(request.path(), source);
  if (status != verbd::Status::ok) return response.status(http_status(status));

  // The destination names what the source is: a collection ends in '/'.
  std::string from(request.path()), to(request.destination());
  if (source.is_collection() && from.back() != '/') from += '/';
  if (source.is_collection() && to.back() != '/') to += '/';
  if (!source.is_collection() && to.size() > 1 && to.back() == '/') to.pop_back();
  auto within = [](std::string_view inner, std::string_view outer) {
    return inner == outer || (outer.back() == '/' && inner.substr(0, outer.size()) == outer);
  };
  if (to == "/" || within(to, from) || within(from, to)) return response.status(403);

  verbd::Transfer how{overwrite_of(request), *depth == Depth::zero};
  bool created = false;
  status = move ? store.move(from, to, how, created) : store.copy(from, to, how, created);
  if (status == verbd::Status::exists) return response.status(412);
  if (status != verbd::Status::ok) return response.status(http_status(status));
  if (!created) return response.status(204);
  response.status(201);
  response.header("Location", verbd::percent_encode_path(to));
}

}  // namespace dav
