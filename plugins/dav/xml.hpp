// The XML of WebDAV request bodies (PROPFIND, PROPPATCH, LOCK), read with
// expat into a small tree, and the escaping the responses need.
//
// Why expat: it is the smallest of the maintained parsers in Debian, it
// reports namespaces as (URI, local name) pairs, which is all WebDAV needs,
// and it leaves building a tree to us, so the tree holds nothing else.
//
// What is refused, as malformed (400): anything not well-formed, or not
// namespace-well-formed (xmlns:p=""); any document type declaration, so no
// entity is ever defined, let alone expanded ("billion laughs" stops at the
// DOCTYPE) and nothing external is fetched; more than `max_depth` levels or
// `max_nodes` elements.
#pragma once

#include <expat.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dav {

// An element, or (with an empty name) a run of text inside one.
struct Node {
  std::string space;                                            // namespace URI; "" for none
  std::string name;                                             // local name; "" for text
  std::vector<std::pair<std::string, std::string>> attributes;  // "uri\x01local" or "local", value
  std::vector<Node> children;
  std::string text;  // a text node's characters

  bool is(std::string_view in_space, std::string_view local) const noexcept {
    return !name.empty() && space == in_space && name == local;
  }
  // The first child element with this name, or null.
  const Node* child(std::string_view in_space, std::string_view local) const noexcept {
    for (const Node& node : children)
      if (node.is(in_space, local)) return &node;
    return nullptr;
  }
  // The text directly inside, concatenated.
  std::string inner_text() const {
    std::string all;
    for (const Node& node : children)
      if (node.name.empty()) all += node.text;
    return all;
  }
  // Whether it holds only whitespace text, if any (no element).
  bool has_elements() const noexcept {
    for (const Node& node : children)
      if (!node.name.empty()) return true;
    return false;
  }
};

inline std::string escaped(std::string_view text, bool in_attribute = false) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += in_attribute ? "&quot;" : "\"";
        break;
      case '\r':
        out += "&#13;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// The content of `node` (its children) as XML that needs no declaration
// from around it: each element declares its own namespace. This is how a
// dead property's value is kept, and sent back inside any document.
inline void write_content(const Node& node, std::string& out) {
  for (const Node& child : node.children) {
    if (child.name.empty()) {
      out += escaped(child.text);
      continue;
    }
    out += "<" + child.name + " xmlns=\"" + escaped(child.space, true) + "\"";
    int prefixes = 0;
    for (const auto& [name, value] : child.attributes) {
      auto separator = name.find('\x01');
      if (separator == std::string::npos) {
        out += " " + name + "=\"" + escaped(value, true) + "\"";
      } else {
        std::string prefix = "a" + std::to_string(prefixes++);
        out += " xmlns:" + prefix + "=\"" + escaped(name.substr(0, separator), true) + "\" " + prefix + ":" +
               name.substr(separator + 1) + "=\"" + escaped(value, true) + "\"";
      }
    }
    if (child.children.empty()) {
      out += "/>";
      continue;
    }
    out += ">";
    write_content(child, out);
    out += "</" + child.name + ">";
  }
}

class Parser {
 public:
  static constexpr std::size_t max_depth = 64;
  static constexpr std::size_t max_nodes = 100000;

  // The document's root element, or nothing with `error` saying why.
  static std::optional<Node> parse(std::string_view body, std::string& error) {
    Parser parser;
    return parser.run(body, error);
  }

 private:
  Parser() : expat_(XML_ParserCreateNS("UTF-8", '\x01'), &XML_ParserFree) {}

  std::optional<Node> run(std::string_view body, std::string& error) {
    if (!expat_) {
      error = "out of memory";
      return std::nullopt;
    }
    XML_Parser p = expat_.get();
    XML_SetUserData(p, this);
    XML_SetElementHandler(p, &Parser::on_start, &Parser::on_end);
    XML_SetCharacterDataHandler(p, &Parser::on_text);
    XML_SetStartDoctypeDeclHandler(p, &Parser::on_doctype);
    XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
    bool parsed = XML_Parse(p, body.data(), static_cast<int>(body.size()), XML_TRUE) == XML_STATUS_OK;
    if (!problem_.empty()) {
      error = problem_;
      return std::nullopt;
    }
    if (!parsed || !root_) {
      error = std::string("malformed XML: ") + XML_ErrorString(XML_GetErrorCode(p)) + " at line " +
              std::to_string(XML_GetCurrentLineNumber(p));
      return std::nullopt;
    }
    return std::move(*root_);
  }

  static Parser& self(void* data) { return *static_cast<Parser*>(data); }

  void stop(std::string why) {
    if (problem_.empty()) problem_ = std::move(why);
    XML_StopParser(expat_.get(), XML_FALSE);
  }

  static void on_doctype(void* data, const XML_Char*, const XML_Char*, const XML_Char*, int) {
    self(data).stop("a document type declaration (DTD) is not accepted");
  }

  static void split_name(const char* full, std::string& space, std::string& local) {
    std::string_view name(full);
    auto separator = name.find('\x01');
    if (separator == std::string_view::npos) {
      space.clear();
      local.assign(name);
    } else {
      space.assign(name.substr(0, separator));
      local.assign(name.substr(separator + 1));
    }
  }

  static void on_start(void* data, const XML_Char* name, const XML_Char** attributes) {
    Parser& parser = self(data);
    if (parser.open_.size() >= max_depth || ++parser.nodes_ > max_nodes) {
      parser.stop("the XML body is nested too deep or has too many elements");
      return;
    }
    Node node;
    split_name(name, node.space, node.name);
    for (std::size_t i = 0; attributes[i] != nullptr; i += 2)
      node.attributes.emplace_back(attributes[i], attributes[i + 1]);
    if (parser.open_.empty()) {
      parser.root_ = std::make_unique<Node>(std::move(node));
      parser.open_.push_back(parser.root_.get());
    } else {
      auto& siblings = parser.open_.back()->children;
      siblings.push_back(std::move(node));
      parser.open_.push_back(&siblings.back());
    }
  }

  static void on_end(void* data, const XML_Char*) { self(data).open_.pop_back(); }

  static void on_text(void* data, const XML_Char* text, int length) {
    Parser& parser = self(data);
    if (parser.open_.empty()) return;
    auto& siblings = parser.open_.back()->children;
    if (siblings.empty() || !siblings.back().name.empty()) siblings.push_back(Node{});
    siblings.back().text.append(text, static_cast<std::size_t>(length));
  }

  std::unique_ptr<XML_ParserStruct, decltype(&XML_ParserFree)> expat_;
  std::unique_ptr<Node> root_;
  std::vector<Node*> open_;  // the elements being read, innermost last
  std::size_t nodes_ = 0;
  std::string problem_;
};

}  // namespace dav
