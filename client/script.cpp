// The scripted mode: runs the [[case]] entries of a TOML file in order,
// prints each exchange and whether it passed, and ends with the line
// "N passed, N failed".
//
//   [[case]]
//   name = "create a key"              # optional
//   method = "PUT"                     # default GET
//   url = "/db/name"
//   headers = { Content-Type = "text/plain" }
//   body = "kangjuseong"
//   expect_status = 201
//   expect_body = "..."                # exact
//   expect_body_contains = "..."
//   expect_header = { Location = "/db/name" }
#include "connection.hpp"
#include "modes.hpp"
#include "request.hpp"

#include <toml++/toml.h>

#include <iostream>
#include <optional>
#include <set>

namespace verb {
namespace {

struct Case {
  std::string name;
  Request request;
  std::optional<std::int64_t> expect_status;
  std::optional<std::string> expect_body;
  std::optional<std::string> expect_body_contains;
  std::vector<std::pair<std::string, std::string>> expect_header;
};

class ScriptError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string where(const std::string& file, const toml::node& node) {
  return file + ":" + std::to_string(node.source().begin.line) + ":" +
         std::to_string(node.source().begin.column) + ": ";
}

std::optional<std::string> text(const std::string& file, const toml::table& table, const char* key) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return std::nullopt;
  if (!node->is_string()) throw ScriptError(where(file, *node) + key + " must be a string");
  return node->value<std::string>();
}

std::vector<std::pair<std::string, std::string>> pairs(const std::string& file, const toml::table& table,
                                                       const char* key) {
  std::vector<std::pair<std::string, std::string>> out;
  const toml::node* node = table.get(key);
  if (node == nullptr) return out;
  if (!node->is_table()) throw ScriptError(where(file, *node) + key + " must be a table of strings");
  for (const auto& [name, value] : *node->as_table()) {
    if (!value.is_string())
      throw ScriptError(where(file, value) + std::string(key) + " values must be strings");
    out.emplace_back(std::string(name.str()), *value.value<std::string>());
  }
  return out;
}

Case read_case(const std::string& file, const toml::table& table, const std::string& base,
               std::size_t number) {
  static const std::set<std::string> known{
      "name",         "method",        "url",         "headers",
      "body",         "expect_status", "expect_body", "expect_body_contains",
      "expect_header"};
  for (const auto& [key, value] : table)
    if (!known.count(std::string(key.str())))
      throw ScriptError(where(file, value) + "unknown key '" + std::string(key.str()) + "' in a case");
  Case c;
  c.request.method = text(file, table, "method").value_or("GET");
  auto url = text(file, table, "url");
  if (!url) throw ScriptError(file + ": case " + std::to_string(number) + " has no url");
  c.name = text(file, table, "name").value_or(c.request.method + " " + *url);
  c.request.address = resolve(base, *url);
  for (const auto& [name, value] : pairs(file, table, "headers"))
    c.request.fields.push_back(name + ": " + value);
  c.request.body = text(file, table, "body").value_or("");
  c.request.send_length = takes_body(c.request.method);
  if (const toml::node* status = table.get("expect_status")) {
    if (!status->is_integer()) throw ScriptError(where(file, *status) + "expect_status must be an integer");
    c.expect_status = status->value<std::int64_t>();
  }
  c.expect_body = text(file, table, "expect_body");
  c.expect_body_contains = text(file, table, "expect_body_contains");
  c.expect_header = pairs(file, table, "expect_header");
  return c;
}

std::vector<Case> read_cases(const std::string& file, const std::string& base) {
  toml::table root;
  try {
    root = toml::parse_file(file);
  } catch (const toml::parse_error& e) {
    throw ScriptError(file + ":" + std::to_string(e.source().begin.line) + ":" +
                      std::to_string(e.source().begin.column) + ": " + std::string(e.description()));
  }
  const toml::array* list = root["case"].as_array();
  if (list == nullptr || list->empty()) throw ScriptError(file + ": no [[case]] entries");
  std::vector<Case> cases;
  for (const auto& node : *list) {
    if (!node.is_table()) throw ScriptError(where(file, node) + "each case must be a table");
    cases.push_back(read_case(file, *node.as_table(), base, cases.size() + 1));
  }
  return cases;
}

// What did not hold, one reason a line; empty when the case passed.
std::vector<std::string> check(const Case& c, const Response& response) {
  std::vector<std::string> failures;
  if (c.expect_status && response.status != *c.expect_status)
    failures.push_back("status " + std::to_string(response.status) + ", expected " +
                       std::to_string(*c.expect_status));
  if (c.expect_body && response.body != *c.expect_body)
    failures.push_back("body differs from expect_body (" + std::to_string(response.body.size()) +
                       " bytes, expected " + std::to_string(c.expect_body->size()) + ")");
  if (c.expect_body_contains && response.body.find(*c.expect_body_contains) == std::string::npos)
    failures.push_back("body does not contain '" + *c.expect_body_contains + "'");
  for (const auto& [name, value] : c.expect_header)
    if (response.field(name) != value)
      failures.push_back("header " + name + " is '" + response.field(name) + "', expected '" + value + "'");
  return failures;
}

}  // namespace

int script(const Options& options, const std::string& file) {
  std::vector<Case> cases;
  try {
    cases = read_cases(file, options.base);
  } catch (const std::exception& e) {
    std::cerr << "verb: " << e.what() << "\n";
    return 2;
  }
  Connection connection(options.timeout, options.tls);
  int passed = 0, failed = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    std::cout << "=== case " << i + 1 << ": " << c.name << "\n" << c.request.wire();
    if (!c.request.body.empty()) std::cout << "\n";
    std::vector<std::string> failures;
    try {
      connection.open(c.request.address.host, c.request.address.port, c.request.address.tls);
      connection.send(c.request.wire());
      Response response = connection.receive(c.request.method == "HEAD");
      std::cout << "---\n" << response.wire << (response.wire.back() == '\n' ? "" : "\n");
      failures = check(c, response);
    } catch (const std::exception& e) {
      connection.close();
      failures.push_back(e.what());
    }
    if (failures.empty()) {
      ++passed;
      std::cout << "PASSED\n\n";
    } else {
      ++failed;
      for (const auto& failure : failures) std::cout << "FAILED: " << failure << "\n";
      std::cout << "\n";
    }
  }
  std::cout << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace verb
