// The interactive mode: asks for a method, a URL, a version and (for
// POST, PUT and PATCH) a message, sends the request, and prints the raw
// response. Loops until end of input or "quit". Reuses the connection while
// the server keeps it open, and reconnects by itself when it does not.
#include "connection.hpp"
#include "modes.hpp"
#include "request.hpp"

#include <editline/readline.h>
#include <unistd.h>

#include <iostream>
#include <optional>

namespace verb {
namespace {

class Prompter {
 public:
  Prompter(std::istream& in, std::ostream& out)
      : in_(in), out_(out), terminal_(&in == &std::cin && ::isatty(STDIN_FILENO)) {}

  // One line, or nothing at the end of input. On a terminal, with line
  // editing and history; from a pipe, the prompt is printed all the same.
  std::optional<std::string> ask(const char* prompt) {
    if (terminal_) {
      char* line = ::readline(prompt);
      if (line == nullptr) return std::nullopt;
      std::string text(line);
      std::free(line);
      if (!text.empty()) ::add_history(text.c_str());
      return text;
    }
    out_ << prompt << std::flush;
    std::string text;
    if (!std::getline(in_, text)) {
      out_ << "\n";
      return std::nullopt;
    }
    if (!text.empty() && text.back() == '\r') text.pop_back();
    out_ << text << "\n";  // echoed, so that a transcript reads as a session
    return text;
  }

 private:
  std::istream& in_;
  std::ostream& out_;
  bool terminal_;
};

std::optional<std::string> version_from(const std::string& answer) {
  if (answer.empty() || answer == "1.1" || answer == "HTTP/1.1") return "HTTP/1.1";
  if (answer == "1.0" || answer == "HTTP/1.0") return "HTTP/1.0";
  return std::nullopt;
}

void print(std::ostream& out, const Response& response) {
  for (const auto& interim : response.interim) out << interim;
  out << response.wire;
  if (!response.wire.empty() && response.wire.back() != '\n') out << '\n';
  out << std::flush;
}

// Sends and receives; when a reused connection turns out to have been
// closed by the server meanwhile, connects again and retries once.
Response exchange(Connection& connection, const Request& request) {
  bool reused = connection.is_open();
  connection.open(request.address.host, request.address.port, request.address.tls);
  try {
    connection.send(request.wire());
    return connection.receive(request.method == "HEAD");
  } catch (const std::exception&) {
    if (!reused) throw;
    connection.close();
    connection.open(request.address.host, request.address.port, request.address.tls);
    connection.send(request.wire());
    return connection.receive(request.method == "HEAD");
  }
}

}  // namespace

int interactive(const Options& options, std::istream& in, std::ostream& out) {
  Prompter prompter(in, out);
  Connection connection(options.timeout, options.tls);
  while (true) {
    auto method = prompter.ask("METHOD >> ");
    if (!method || *method == "quit") break;
    if (method->empty()) continue;
    auto url = prompter.ask("URL >> ");
    if (!url) break;
    auto version_answer = prompter.ask("HTTP VERSION >> ");
    if (!version_answer) break;
    auto version = version_from(*version_answer);
    if (!version) {
      std::cerr << "verb: HTTP VERSION is 1.0 or 1.1 (empty: 1.1), not '" << *version_answer << "'\n";
      continue;
    }
    Request request;
    request.method = *method;
    request.version = *version;
    if (*version == "HTTP/1.0") request.fields.push_back("Connection: keep-alive");
    if (takes_body(request.method)) {
      auto message = prompter.ask("MESSAGE >> ");
      if (!message) break;
      request.body = *message;
      request.send_length = true;
    }
    try {
      request.address = resolve(options.base, *url);
      print(out, exchange(connection, request));
    } catch (const std::exception& e) {
      connection.close();
      std::cerr << "verb: " << e.what() << "\n";
    }
  }
  return 0;
}

}  // namespace verb
