#include "http/parser.hpp"

#include "common/ascii.hpp"

#include <boost/beast/http/error.hpp>
#include <boost/url/parse.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

namespace verbd::http {

namespace beast = boost::beast;
using beast::http::error;

namespace {

struct LineScan {
  const char* problem = nullptr;                  // why the bytes are refused, if they are
  std::size_t head_end = std::string_view::npos;  // just past the empty line ending a head
};

// RFC 9112 §2.2: every line ends in CRLF; a bare CR is refused, and so is a
// bare LF (which §2.2 would let a recipient accept, at the price of reading a
// message differently from a stricter server in front of it). In a head, a
// line that begins with whitespace is obsolete line folding, or whitespace
// before the first field: both refused (§5.2, §2.2).
//
// A CR is judged with the byte after it, and so is an LF for folding: such
// a byte at the end waits for more input. `from` records how far the bytes
// are known to be clean, so that a head arriving in pieces is scanned once.
//
// It goes a line at a time: a memchr finds the LF, another any CR before
// it, which must be the byte just before it.
LineScan scan_lines(std::string_view bytes, std::size_t& from, bool in_head) {
  for (std::size_t start = from;;) {
    std::size_t lf = bytes.find('\n', start);
    std::size_t line_end = lf == std::string_view::npos ? bytes.size() : lf;
    std::size_t cr = bytes.substr(start, line_end - start).find('\r');
    if (lf == std::string_view::npos) {  // an unfinished line
      if (cr == std::string_view::npos)
        from = bytes.size();
      else if (start + cr + 1 == bytes.size())
        from = start + cr;  // its LF may come next
      else
        return {"bare CR in the request"};
      return {};
    }
    if (cr != std::string_view::npos && start + cr + 1 != lf) return {"bare CR in the request"};
    if (lf == 0 || bytes[lf - 1] != '\r') return {"line ending in a bare LF"};
    if (lf + 1 == bytes.size()) {  // what follows it is not known yet
      from = lf;
      return {};
    }
    char next = bytes[lf + 1];
    if (in_head && next == '\r') {  // an empty line: the head's end
      if (lf + 2 == bytes.size()) {
        from = lf;
        return {};
      }
      if (bytes[lf + 2] != '\n') return {"bare CR in the request"};
      return {nullptr, lf + 3};
    }
    if (in_head && (next == ' ' || next == '\t')) return {"line folding or whitespace before a field"};
    start = lf + 1;
  }
}

// Letters, digits, '.' and '-', then perhaps ':' and digits: a name or an
// IPv4 address with a port, what nearly every client sends. Always a valid
// uri-host [":" port] (RFC 3986 reg-name), so Boost.URL, which costs a
// keep-alive GET more than this (README, Performance), is asked only about
// other forms.
bool is_plain_host(std::string_view host) noexcept {
  static constexpr auto name_chars = [] {  // a table: one look a byte, for every request
    std::array<bool, 256> allowed{};
    for (int c = 0; c < 256; ++c)
      allowed[c] = ascii::is_alpha(char(c)) || ascii::is_digit(char(c)) || c == '.' || c == '-';
    return allowed;
  }();
  auto name_char = [](char c) { return name_chars[static_cast<unsigned char>(c)]; };
  std::size_t colon = host.find(':');
  std::string_view name = host.substr(0, colon);
  std::string_view port = colon == std::string_view::npos ? std::string_view{} : host.substr(colon + 1);
  return std::all_of(name.begin(), name.end(), name_char) &&
         std::all_of(port.begin(), port.end(), ascii::is_digit);
}

}  // namespace

Parser::Parser(const ParserLimits& limits, Request& request, Spooler* spooler)
    : limits_(limits), request_(request), spooler_(spooler) {
  request_.clear();
  // The head's limits are checked before Beast sees it (take_whole_head);
  // Beast's own, on the request line and on the fields apart, is looser.
  header_limit(static_cast<std::uint32_t>(limits.max_request_line_bytes + limits.max_header_bytes + 4));
  body_limit(limits.max_body_bytes);
}

// Beast is handed one part of the message at a time (eager off): the head,
// then each chunk line and each piece of body. The parts made of lines —
// the head, a chunk line, the last chunk's line with the trailers — are
// handed over only once whole and checked here, so that what Beast reads
// does not depend on how the bytes were split into reads.
std::size_t Parser::feed(std::span<char> input) {
  std::size_t used = 0;
  while (state_ == State::header || state_ == State::body) {
    std::span<char> rest = input.subspan(used);
    if (state_ == State::header) {
      std::size_t skipped = skip_empty_lines(rest);
      used += skipped;
      rest = rest.subspan(skipped);
      if (!take_whole_head(rest)) break;
    } else if (chunked() && chunk_data_left_ == 0 && !take_whole_chunk_lines(rest)) {
      break;
    }
    if (rest.empty()) break;
    std::size_t parsed = hand_to_beast(rest);
    used += parsed;
    if (parsed == 0) break;
  }
  return used;
}

std::size_t Parser::hand_to_beast(std::span<const char> part) {
  beast::error_code ec;
  std::size_t parsed = put(boost::asio::const_buffer(part.data(), part.size()), ec);
  if (ec == error::need_more) ec = {};
  if (ec) {
    refuse_for(ec);
  } else if (is_done()) {
    state_ = State::complete;
  } else if (is_header_done()) {
    state_ = State::body;
    // Handed whole, a chunk line is taken or refused; Beast 1.81 may instead
    // wait for more when a quoted chunk extension lacks its closing quote,
    // which it looks for past the line's end.
    if (parsed == 0 && chunked() && chunk_data_left_ == 0) stop(Refusal{400, "malformed chunk extension"});
  }
  return parsed;
}

// Refuses (false) a head with a bad line ending or over a size limit, waits
// (false) for the rest of one still arriving.
bool Parser::take_whole_head(std::span<char> input) {
  std::string_view bytes(input.data(), input.size());
  auto scan = scan_lines(bytes, head_scanned_, true);
  if (scan.problem) return stop(Refusal{400, scan.problem}), false;
  auto line_end = bytes.substr(0, limits_.max_request_line_bytes + 1).find('\n');
  if (line_end == std::string_view::npos) {
    if (bytes.size() > limits_.max_request_line_bytes) stop(Refusal{414, "request line too long"});
    return false;
  }
  auto field_bytes = std::min(scan.head_end, bytes.size()) - (line_end + 1);
  if (field_bytes > limits_.max_header_bytes + 2)
    return stop(Refusal{431, "header section too large"}), false;
  if (scan.head_end == std::string_view::npos) return false;
  return check_version(input.first(line_end));
}

// The same for a chunk line (after the CRLF ending the data before it), or
// for the last chunk's line with the trailer section, which ends in an
// empty line. Both are bounded by max_header_bytes: Beast 1.81 sets no
// bound on chunk extensions.
bool Parser::take_whole_chunk_lines(std::span<const char> input) {
  std::string_view bytes(input.data(), input.size());
  std::size_t line_start = chunks_read_ > 0 ? 2 : 0;
  auto line_end = bytes.find("\r\n", line_start);
  auto end = line_end;
  if (line_end != std::string_view::npos) {
    auto size = bytes.substr(line_start, line_end - line_start);
    size = size.substr(0, size.find_first_not_of("0123456789abcdefABCDEF"));
    bool last_chunk = !size.empty() && size.find_first_not_of('0') == std::string_view::npos;
    end = last_chunk ? bytes.find("\r\n\r\n", line_end) : line_end;
    if (end != std::string_view::npos) end += last_chunk ? 4 : 2;
  }
  std::size_t from = 0;
  auto lines = bytes.substr(0, end);
  if (scan_lines(lines, from, false).problem) return stop(Refusal{400, "malformed chunk"}), false;
  if (lines.size() > limits_.max_header_bytes)
    return stop(Refusal{400, "chunk line or trailers too long"}), false;
  return end != std::string_view::npos;
}

void Parser::stop(Refusal refusal) {
  refusal_ = refusal;
  state_ = State::refused;
}

// RFC 9112 §2.2: empty lines before a request line are ignored.
std::size_t Parser::skip_empty_lines(std::span<const char> input) {
  std::size_t at = 0;
  while (at + 1 < input.size() && input[at] == '\r' && input[at + 1] == '\n') at += 2;
  return at;
}

// RFC 9112 §2.3: the request line ends in "HTTP/" DIGIT "." DIGIT, else 400.
// A major version other than 1 is 505 (RFC 9110 §15.6.6). A higher minor
// version is served as 1.1: RFC 9110 §2.5 says to process it "as if it were
// in the highest minor version within that major version to which the
// recipient is conformant"; Beast reads only 1.0 and 1.1, so the digit it
// reads is rewritten to the one served.
bool Parser::check_version(std::span<char> request_line) {
  std::string_view line(request_line.data(), request_line.size());
  if (!line.ends_with('\r')) return stop(Refusal{400, "malformed request line"}), false;
  line.remove_suffix(1);
  auto version = line.size() < 9 ? std::string_view{} : line.substr(line.size() - 9);  // " HTTP/x.y"
  if (!version.starts_with(" HTTP/") || !ascii::is_digit(version[6]) || version[7] != '.' ||
      !ascii::is_digit(version[8]))
    return stop(Refusal{400, "malformed request line"}), false;
  if (version[6] != '1') {
    bool well_formed = std::count(line.begin(), line.end(), ' ') == 2;
    return stop(well_formed ? Refusal{505, "only HTTP/1.0 and HTTP/1.1 are served"}
                            : Refusal{400, "malformed request line"}),
           false;
  }
  if (version[8] > '1') request_line[line.size() - 1] = '1';
  return true;
}

void Parser::refuse(int status, const char* reason, beast::error_code& ec) {
  refusal_ = {status, reason};
  ec = error::bad_value;  // stops Beast; refuse_for() keeps the status set here
}

void Parser::refuse_for(const beast::error_code& ec) {
  state_ = State::refused;
  if (refusal_.status != 0) return;
  if (ec == error::header_limit) {
    refusal_ =
        got_request_line_ ? Refusal{431, "header section too large"} : Refusal{414, "request line too long"};
  } else if (ec == error::body_limit) {
    refusal_ = {413, "body too large"};
  } else if (ec == error::bad_content_length || ec == error::multiple_content_length) {
    refusal_ = {400, "invalid Content-Length"};
  } else if (ec == error::bad_transfer_encoding) {
    refusal_ = {400, "invalid Transfer-Encoding, or Transfer-Encoding with Content-Length"};
  } else if (ec == error::bad_chunk || ec == error::bad_chunk_extension) {
    refusal_ = {400, "malformed chunk"};
  } else if (ec == error::bad_method || ec == error::bad_target || ec == error::bad_version) {
    refusal_ = {400, "malformed request line"};
  } else {
    refusal_ = {400, "malformed header"};
  }
}

std::size_t Parser::keep(std::string_view text) {
  auto at = request_.head_bytes.size();
  request_.head_bytes.append(text);
  return at;
}

void Parser::on_request_impl(beast::http::verb, boost::beast::string_view method,
                             boost::beast::string_view target, int version, beast::error_code&) {
  got_request_line_ = true;
  request_.version = version;
  // Field 0 and 1 of fields_at hold the method and the target.
  request_.fields_at.push_back({keep(method), method.size(), keep(target), target.size()});
}

void Parser::on_field_impl(beast::http::field field, boost::beast::string_view name,
                           boost::beast::string_view value, beast::error_code&) {
  if (got_header_) return;  // a trailer after a chunked body: dropped, as RFC 9112 §7.1.2 allows
  if (field == beast::http::field::host) ++host_fields_;
  if (field == beast::http::field::transfer_encoding) {
    saw_transfer_encoding_ = true;
    if (!transfer_codings_.empty()) transfer_codings_ += ',';
    transfer_codings_.append(value);
  }
  request_.fields_at.push_back({keep(name), name.size(), keep(value), value.size()});
}

void Parser::on_header_impl(beast::error_code& ec) {
  got_header_ = true;
  request_.point_views_into_head();
  request_.keep_alive = keep_alive();
  auto length = content_length();
  request_.announces_spooled_body = length && *length > limits_.body_in_memory_bytes && spooler_ != nullptr;
  if (saw_transfer_encoding_) check_transfer_coding(ec);
  if (!ec) check_host(ec);
  if (!ec) check_expectation(ec);
}

// RFC 9112 §6.3: unless chunked is the final coding, and there only once, the
// body's length cannot be known: 400 (a MUST). Otherwise another coding
// before it is one verbd cannot decode: 501 (RFC 9112 §6.1). Both close.
void Parser::check_transfer_coding(beast::error_code& ec) {
  if (request_.version == 10) return refuse(400, "Transfer-Encoding in an HTTP/1.0 request", ec);
  std::string_view rest = transfer_codings_;
  int codings = 0, chunked_codings = 0;
  bool chunked_last = false;
  while (!rest.empty()) {
    std::string_view coding = ascii::take_list_element(rest);
    if (coding.empty()) continue;
    ++codings;
    chunked_last = ascii::iequals(coding, "chunked");
    chunked_codings += chunked_last;
  }
  if (!chunked_last || chunked_codings != 1)
    return refuse(400, "chunked must be the one final transfer coding", ec);
  if (codings != 1) return refuse(501, "transfer coding not implemented", ec);
}

// RFC 9112 §3.2: exactly one Host in HTTP/1.1, and a valid one: uri-host [":" port].
void Parser::check_host(beast::error_code& ec) {
  if (host_fields_ > 1) return refuse(400, "more than one Host field", ec);
  if (host_fields_ == 0 && request_.version >= 11) return refuse(400, "HTTP/1.1 request without Host", ec);
  if (request_.host.empty() || is_plain_host(request_.host)) return;
  auto authority = boost::urls::parse_authority(request_.host);
  if (!authority || authority->has_userinfo()) return refuse(400, "invalid Host", ec);
}

// RFC 9110 §10.1.1: 100-continue is the only expectation defined.
void Parser::check_expectation(beast::error_code& ec) {
  auto expectation = request_.header("Expect");
  if (expectation.empty()) return;
  if (!ascii::iequals(expectation, "100-continue")) return refuse(417, "unsupported expectation", ec);
  request_.expects_continue = request_.version >= 11;
}

void Parser::on_body_init_impl(boost::optional<std::uint64_t> const& length, beast::error_code&) {
  if (length && !request_.announces_spooled_body) request_.body.reserve(static_cast<std::size_t>(*length));
}

std::size_t Parser::on_body_impl(boost::beast::string_view body, beast::error_code& ec) {
  take_body(body, ec);
  return body.size();
}

// A body stays in memory up to body_in_memory_bytes; past that, what came
// so far and all that follows goes to a spool file, so that a large upload
// costs no more memory than a small one. Written by a SpoolWriter, away from
// the event loop.
void Parser::take_body(std::string_view bytes, beast::error_code& ec) {
  bool fits = request_.body.size() + bytes.size() <= limits_.body_in_memory_bytes;
  if (!request_.body_spooled() && (fits || spooler_ == nullptr)) {
    request_.body.append(bytes);
    return;
  }
  if (!request_.body_spooled()) {
    request_.body_file = spooler_->open_spool();
    Fd own(request_.body_file.ok() ? ::fcntl(request_.body_file.get(), F_DUPFD_CLOEXEC, 0) : -1);
    if (!own.ok()) return refuse(500, "could not make a file for the body", ec);
    spool_ = std::make_shared<SpoolWriter>(std::move(own));
    std::string in_memory;
    in_memory.swap(request_.body);
    spool(in_memory);
  }
  spool(bytes);
}

void Parser::spool(std::string_view bytes) {
  spool_->append(bytes);
  request_.body_file_size += bytes.size();
}

Parser::~Parser() {
  if (spool_) spool_->abandon();
}

void Parser::on_chunk_header_impl(std::uint64_t size, boost::beast::string_view, beast::error_code&) {
  chunk_data_left_ = size;
  chunks_read_ += size > 0;
}

std::size_t Parser::on_chunk_body_impl(std::uint64_t remain, boost::beast::string_view body,
                                       beast::error_code& ec) {
  chunk_data_left_ = remain - body.size();
  take_body(body, ec);
  return body.size();
}

void Parser::on_finish_impl(beast::error_code&) {}

}  // namespace verbd::http
