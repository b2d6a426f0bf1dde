#include "http/response.hpp"

#include <verbd/http.hpp>
#include <verbd/plugin.hpp>

#include <charconv>
#include <ctime>

namespace verbd::http {
namespace {

// The Date field's text, formatted once a second per thread.
std::string_view current_date() {
  thread_local std::time_t cached_second = -1;
  thread_local char cached[29];
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    format_http_date(now, cached);
    cached_second = now;
  }
  return {cached, sizeof cached};
}

void append_number(std::string& out, std::uint64_t value) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, end);
}

}  // namespace

const char* reason_phrase(int status) noexcept {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    case 507:
      return "Insufficient Storage";
    default:
      return status < 400 ? "OK" : status < 500 ? "Client Error" : "Server Error";
  }
}

void Response::reset(bool answers_head, store::Store* store) {
  status_ = 200;
  answers_head_ = answers_head;
  store_ = store;
  has_content_type_ = false;
  fields_.clear();
  body_.clear();
  length_not_read_.reset();
  file_ = store::Fd();
  problem_.clear();
}

void Response::trim(std::size_t bytes) {
  if (body_.capacity() > bytes) std::string().swap(body_);  // assigning "" would keep the capacity
}

void Response::set_status(int status) {
  if (!is_plugin_status(status)) {
    problem_ = "status " + std::to_string(status) + " is outside 200-599";
    return;
  }
  status_ = status;
}

void Response::add_header(std::string_view name, std::string_view value) {
  if (is_token(name) && is_safe_field_value(value) && !is_host_owned_field(name)) {
    add_trusted_header(name, value);
  } else {
    problem_ = field_problem(name, value);  // only now is the message worth building
  }
}

void Response::add_trusted_header(std::string_view name, std::string_view value) {
  has_content_type_ = has_content_type_ || iequals(name, "Content-Type");
  fields_.append(name).append(": ").append(value).append("\r\n");
}

void Response::append(std::string_view bytes) {
  if (file_.ok()) read_file_into_body();  // bytes after an attached resource
  length_not_read_.reset();
  body_.append(bytes);
}

store::Status Response::attach(std::string_view path, store::Entry& entry) {
  if (store_ == nullptr) return VERBD_IO_ERROR;
  body_.clear();
  length_not_read_.reset();
  file_ = store::Fd();
  // HEAD describes the resource without reading it; a large one is sent
  // from its file.
  store::Status status = answers_head_ ? store_->read(path, nullptr, entry)
                                       : store_->read_for_sending(path, body_, file_, entry);
  if (status == VERBD_OK && (answers_head_ || file_.ok())) length_not_read_ = entry.size;
  if (status != VERBD_OK) body_.clear();
  return status;
}

store::Fd Response::file_to_send() noexcept {
  if (!allows_body() || answers_head_) return store::Fd();
  return std::move(file_);
}

void Response::read_file_into_body() {
  body_.clear();
  // A file shrunk or failing meanwhile leaves what could be read.
  store::append_file_start(file_.get(), length_not_read_.value_or(0), body_);
  file_ = store::Fd();
}

void Response::refuse(int status, std::string_view why) {
  reset(answers_head_, store_);
  status_ = status;
  add_trusted_header("Content-Type", "text/plain; charset=utf-8");
  body_.append(std::to_string(status)).append(" ").append(reason_phrase(status));
  if (!why.empty()) body_.append(": ").append(why);
  body_.append("\n");
}

void Response::complete_error_page() {
  if (status_ < 400 || content_length() != 0 || has_content_type_) return;
  add_trusted_header("Content-Type", "text/plain; charset=utf-8");
  body_.append(std::to_string(status_)).append(" ").append(reason_phrase(status_)).append("\n");
}

std::uint64_t Response::content_length() const noexcept {
  return length_not_read_ ? *length_not_read_ : body_.size();
}

// RFC 9110 §6.4.1: 204 and 304 have no content, and no Content-Length (§8.6).
bool Response::allows_body() const noexcept { return status_ != 204 && status_ != 304; }

void Response::serialize(std::string& out, const WireContext& wire) const {
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<std::uint64_t>(status_));
  out.append(" ").append(reason_phrase(status_)).append("\r\nDate: ").append(current_date());
  out.append("\r\nServer: ").append(wire.server_name).append("\r\n").append(fields_);
  if (allows_body()) {
    out.append("Content-Length: ");
    append_number(out, content_length());
    out.append("\r\n");
    if (content_length() > 0 && !has_content_type_) out.append("Content-Type: application/octet-stream\r\n");
  }
  if (!wire.keep_alive) {
    out.append("Connection: close\r\n");
  } else if (wire.request_version == 10) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
  if (allows_body() && !answers_head_) out.append(body_);
}

}  // namespace verbd::http
