// Fuzzes the request parser with any bytes, read as one connection would
// read them: requests one after another, each parser fed what is buffered.
//
// Besides crashes and sanitizer reports, it checks two properties:
// - what the parser accepts is what plugins may rely on (a token method,
//   token field names, field values without CR, LF or NUL, a bounded body);
// - the verdicts do not depend on how the bytes were split into reads: the
//   same requests accepted, alike to the byte, and a refusal at the same
//   request. Which status a refusal carries may depend on the reads when a
//   request has several faults (a chunk too large and malformed, say) and
//   one of them shows first; since any refusal closes, that is harmless.
#include "http/parser.hpp"

#include <verbd/detail/rules.hpp>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace {

using verbd::http::Parser;

const verbd::http::ParserLimits limits{128, 512, 2048};

struct Verdict {
  Parser::State state;
  std::string method, target, fields, body;
  int version;
  bool keep_alive;
  bool operator==(const Verdict&) const = default;
};

void require(bool condition) {
  if (!condition) std::abort();
}

void check_accepted(const verbd::http::Request& request) {
  require(verbd::detail::is_token(request.method));
  require(!request.target.empty());
  require(request.version == 10 || request.version == 11);
  require(request.body.size() <= limits.max_body_bytes);
  for (const auto& field : request.headers) {
    require(verbd::detail::is_token(field.name));
    require(verbd::detail::is_safe_field_value(field.value));
  }
}

Verdict verdict_of(const Parser& parser, const verbd::http::Request& request) {
  Verdict verdict{parser.state(), {}, {}, {}, {}, 0, false};
  if (parser.state() != Parser::State::complete) return verdict;
  check_accepted(request);
  verdict.method = request.method;
  verdict.target = request.target;
  for (const auto& field : request.headers) verdict.fields.append(field.name).append(":").append(field.value);
  verdict.body = request.body;
  verdict.version = request.version;
  verdict.keep_alive = request.keep_alive;
  return verdict;
}

// Delivers `bytes` in reads of `step` bytes (all at once when 0), parsing
// after each read as the connection does; returns one verdict per request.
std::vector<Verdict> parse_all(std::string_view bytes, std::size_t step) {
  std::vector<Verdict> verdicts;
  verbd::http::Request request;
  std::optional<Parser> parser;
  std::string buffered;
  std::size_t delivered = 0;
  while (delivered < bytes.size()) {
    std::size_t n = step == 0 ? bytes.size() : std::min(step, bytes.size() - delivered);
    buffered.append(bytes.substr(delivered, n));
    delivered += n;
    while (!buffered.empty()) {
      if (!parser) parser.emplace(limits, request);
      buffered.erase(0, parser->feed(buffered));
      auto state = parser->state();
      if (state == Parser::State::refused) return verdicts.push_back(verdict_of(*parser, request)), verdicts;
      if (state != Parser::State::complete) break;
      verdicts.push_back(verdict_of(*parser, request));
      parser.reset();
    }
  }
  if (parser) verdicts.push_back(verdict_of(*parser, request));
  return verdicts;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::size_t step = 1 + data[0] % 16;  // the first byte chooses how reads are split
  auto whole = parse_all(bytes, 0);
  require(parse_all(bytes, step) == whole);
  require(parse_all(bytes, 1) == whole);
  return 0;
}
