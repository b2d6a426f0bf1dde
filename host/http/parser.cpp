#include "http/parser.hpp"

#include <verbd/plugin.hpp>

#include <boost/beast/http/error.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>

namespace verbd::http {

namespace beast = boost::beast;
using beast::http::error;

std::string_view Request::header(std::string_view name) const noexcept {
  for (const auto& field : headers)
    if (iequals(view(field.name), name)) return view(field.value);
  return {};
}

Parser::Parser(const ParserLimits& limits, Request& request) : limits_(limits), request_(request) {
  request_.clear();
  eager(true);
  // Beast applies its limit to the request line and to the fields apart;
  // the tighter per-part limits are checked here, with their own statuses.
  header_limit(
      static_cast<std::uint32_t>(std::max(limits.max_request_line_bytes, limits.max_header_bytes) + 4));
  body_limit(limits.max_body_bytes);
}

std::size_t Parser::feed(std::string_view buffered) {
  if (state_ == State::complete || state_ == State::refused) return 0;
  if (!got_request_line_ && request_line_too_long(buffered)) {
    refusal_ = {414, "request line too long"};
    state_ = State::refused;
    return 0;
  }
  beast::error_code ec;
  std::size_t used = put(boost::asio::const_buffer(buffered.data(), buffered.size()), ec);
  if (ec == error::need_more) ec = {};
  if (ec == error::bad_version && well_formed_version(buffered))
    refusal_ = {505, "only HTTP/1.0 and HTTP/1.1 are served"};
  if (ec) {
    refuse_for(ec);
  } else if (is_done()) {
    state_ = State::complete;
  } else if (is_header_done()) {
    state_ = State::body;
  }
  return used;
}

bool Parser::request_line_too_long(std::string_view buffered) const {
  auto end = buffered.find('\n');
  auto length = end == std::string_view::npos ? buffered.size() : end;
  return length > limits_.max_request_line_bytes;
}

// Beast refuses any version but 1.0 and 1.1 alike; RFC 9110 §15.6.6 wants
// 505 for a well-formed version it does not serve, 400 for a malformed one.
bool Parser::well_formed_version(std::string_view buffered) {
  auto line = buffered.substr(0, buffered.find("\r\n"));
  if (line.size() < 9 || line[line.size() - 9] != ' ') return false;
  auto version = line.substr(line.size() - 8);
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  bool served = version == "HTTP/1.0" || version == "HTTP/1.1";  // then something else was wrong
  return !served && std::count(line.begin(), line.end(), ' ') == 2 && version.substr(0, 5) == "HTTP/" &&
         digit(version[5]) && version[6] == '.' && digit(version[7]);
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
                             boost::beast::string_view target, int version, beast::error_code& ec) {
  got_request_line_ = true;
  request_.version = version;
  // Field 0 and 1 of fields_at hold the method and the target.
  request_.fields_at.push_back({keep(method), method.size(), keep(target), target.size()});
  if (version / 10 != 1) return refuse(505, "HTTP version not supported", ec);
}

void Parser::on_field_impl(beast::http::field field, boost::beast::string_view name,
                           boost::beast::string_view value, beast::error_code& ec) {
  if (got_header_) return;  // a trailer after a chunked body: dropped, as RFC 9112 §7.1.2 allows
  header_bytes_ += name.size() + value.size() + 4;
  if (header_bytes_ > limits_.max_header_bytes) return refuse(431, "header section too large", ec);
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
  point_views_into_head();
  request_.keep_alive = keep_alive();
  if (saw_transfer_encoding_) check_transfer_coding(ec);
  if (!ec) check_host(ec);
  if (!ec) check_expectation(ec);
}

void Parser::point_views_into_head() {
  const char* base = request_.head_bytes.data();
  const auto& line = request_.fields_at.front();
  request_.method = {base + line.name, line.name_size};
  request_.target = {base + line.value, line.value_size};
  for (std::size_t i = 1; i < request_.fields_at.size(); ++i) {
    const auto& at = request_.fields_at[i];
    request_.headers.push_back({{base + at.name, at.name_size}, {base + at.value, at.value_size}});
  }
  request_.host = request_.header("Host");
}

// RFC 9112 §6.1 and §6.3: only "chunked" is decoded here. A coding verbd
// does not know is 501 (RFC 9110 §15.6.2); chunked that is not the one final
// coding leaves the length unknowable, which is 400. Both close.
void Parser::check_transfer_coding(beast::error_code& ec) {
  if (request_.version == 10) return refuse(400, "Transfer-Encoding in an HTTP/1.0 request", ec);
  std::string_view rest = transfer_codings_;
  int codings = 0;
  bool chunked_last = false;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    auto coding = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t')) coding.remove_prefix(1);
    while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) coding.remove_suffix(1);
    if (coding.empty()) continue;
    ++codings;
    chunked_last = iequals(coding, "chunked");
    if (!chunked_last) return refuse(501, "transfer coding not implemented", ec);
  }
  if (codings != 1 || !chunked_last) return refuse(400, "chunked must be the one final transfer coding", ec);
}

// RFC 9112 §3.2: exactly one Host in HTTP/1.1, and a valid authority.
void Parser::check_host(beast::error_code& ec) {
  if (host_fields_ > 1) return refuse(400, "more than one Host field", ec);
  if (host_fields_ == 0 && request_.version >= 11) return refuse(400, "HTTP/1.1 request without Host", ec);
  if (!request_.host.empty() && !boost::urls::parse_authority(request_.host))
    return refuse(400, "invalid Host", ec);
}

// RFC 9110 §10.1.1: 100-continue is the only expectation defined.
void Parser::check_expectation(beast::error_code& ec) {
  auto expectation = request_.header("Expect");
  if (expectation.empty()) return;
  if (!iequals(expectation, "100-continue")) return refuse(417, "unsupported expectation", ec);
  request_.expects_continue = request_.version >= 11;
}

void Parser::on_body_init_impl(boost::optional<std::uint64_t> const& length, beast::error_code&) {
  if (length) request_.body.reserve(static_cast<std::size_t>(*length));
}

std::size_t Parser::on_body_impl(boost::beast::string_view body, beast::error_code&) {
  request_.body.append(body);
  return body.size();
}

std::size_t Parser::on_chunk_body_impl(std::uint64_t, boost::beast::string_view body, beast::error_code&) {
  request_.body.append(body);
  return body.size();
}

void Parser::on_finish_impl(beast::error_code&) {}

}  // namespace verbd::http
