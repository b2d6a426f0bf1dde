#include "http/response.hpp"

#include "common/ascii.hpp"

#include <verbd/detail/rules.hpp>
#include <verbd/http.hpp>

#include <algorithm>
#include <charconv>
#include <ctime>

namespace verbd::http {
namespace {

void append_number(std::string& out, std::uint64_t value) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, end);
}

// The head's first lines, "HTTP/1.1 200 OK", Date and Server, made again
// only when the second, the status or the server's name has changed since
// this thread's last response: responses in a row mostly share all three.
// The date is formatted by the SDK's function, which plugins use for
// Last-Modified.
std::string_view head_start(int status, std::string_view server_name) {
  thread_local std::string cached;
  thread_local std::time_t cached_second = -1;
  thread_local int cached_status = 0;
  thread_local std::string cached_server_name;
  std::time_t now = std::time(nullptr);
  if (now == cached_second && status == cached_status && server_name == cached_server_name) return cached;
  char date[29];
  verbd::format_http_date(now, date);
  cached.assign("HTTP/1.1 ");
  append_number(cached, static_cast<std::uint64_t>(status));
  cached.append(" ").append(detail::reason_phrase(status)).append("\r\nDate: ").append(date, sizeof date);
  cached.append("\r\nServer: ").append(server_name).append("\r\n");
  cached_second = now;
  cached_status = status;
  cached_server_name.assign(server_name);
  return cached;
}

// The fields are "name: value\r\n" lines, as add_field writes them. One
// is taken off the front of `lines` whole, found by its LF alone.
std::string_view take_field_line(std::string_view& lines) noexcept {
  auto end = lines.find('\n');
  std::string_view line = lines.substr(0, end == std::string_view::npos ? end : end + 1);
  lines.remove_prefix(line.size());
  return line;
}

// Whether `line` is a field of this name (any case): its colon comes right
// after as many bytes as the name has, and a name has no colon.
bool is_field_named(std::string_view line, std::string_view name) noexcept {
  return line.size() > name.size() && line[name.size()] == ':' &&
         ascii::iequals(line.substr(0, name.size()), name);
}

}  // namespace

void Response::reset(bool answers_head) {
  status_ = 200;
  answers_head_ = answers_head;
  has_content_type_ = false;
  fields_.clear();
  body_.clear();
  length_not_read_.reset();
  file_ = Fd();
  file_offset_ = 0;
  resource_body_ = false;
  stream_.reset();
  streamed_ = false;
}

void Response::trim(std::size_t bytes) {
  if (body_.capacity() > bytes) std::string().swap(body_);  // assigning "" would keep the capacity
}

// The line is written in place, after one change of size: four appends
// would each check the capacity and call memcpy, for every field.
void Response::add_field(std::string_view name, std::string_view value) {
  has_content_type_ = has_content_type_ || ascii::iequals(name, "Content-Type");
  std::size_t at = fields_.size();
  fields_.resize(at + name.size() + 2 + value.size() + 2);
  char* out = std::copy(name.begin(), name.end(), fields_.data() + at);
  out = std::copy_n(": ", 2, out);
  out = std::copy(value.begin(), value.end(), out);
  std::copy_n("\r\n", 2, out);
}

// After a resource left in its file, the file is read into the body after
// all; after one that is not read (HEAD), the bytes add to its length.
void Response::append(std::string_view bytes) {
  if (bytes.empty()) return;
  if (file_.ok()) read_file_into_body();
  body_.append(bytes);
  resource_body_ = false;
}

std::string& Response::fresh_body() {
  body_.clear();
  length_not_read_.reset();
  file_ = Fd();
  file_offset_ = 0;
  resource_body_ = false;
  return body_;
}

void Response::set_unread_body(std::uint64_t length) {
  fresh_body();
  length_not_read_ = length;
}

void Response::set_file_body(Fd file, std::uint64_t length) {
  fresh_body();
  file_ = std::move(file);
  length_not_read_ = length;
}

void Response::set_streamed_body(std::shared_ptr<BodyStream> stream) {
  fresh_body();
  stream_ = std::move(stream);
  streamed_ = true;
}

void Response::keep_part(std::uint64_t first, std::uint64_t length) {
  if (file_.ok() || length_not_read_) {  // in its file, or not read (HEAD)
    file_offset_ += first;
    length_not_read_ = length;
    return;
  }
  body_.erase(0, first);
  body_.resize(length);
}

bool Response::copy_part(std::uint64_t first, std::uint64_t length, std::string& out) const {
  if (!file_.ok() && length_not_read_) return false;  // HEAD: never read
  if (!file_.ok()) {
    out.append(std::string_view(body_).substr(first, length));
    return true;
  }
  auto start = out.size();
  return append_file_part(file_.get(), file_offset_ + first, length, out) == 0 &&
         out.size() - start == length;
}

void Response::replace_body(std::string body) {
  body_ = std::move(body);
  file_ = Fd();
  file_offset_ = 0;
  length_not_read_.reset();
  resource_body_ = false;
}

void Response::replace_field(std::string_view name, std::string_view value) {
  std::string kept;
  std::string_view lines = fields_;
  while (!lines.empty()) {
    std::string_view line = take_field_line(lines);
    if (!is_field_named(line, name)) kept.append(line);
  }
  fields_ = std::move(kept);
  if (ascii::iequals(name, "Content-Type")) has_content_type_ = false;
  add_field(name, value);
}

std::string_view Response::field(std::string_view name) const noexcept {
  std::string_view lines = fields_;
  while (!lines.empty()) {
    std::string_view line = take_field_line(lines);
    if (!is_field_named(line, name)) continue;
    std::string_view value = line.substr(name.size() + 1);
    if (value.ends_with('\n')) value.remove_suffix(1);
    if (value.ends_with('\r')) value.remove_suffix(1);
    return ascii::trim_ows(value);
  }
  return {};
}

Fd Response::file_to_send() noexcept {
  if (!allows_body() || answers_head_) return Fd();
  return std::move(file_);
}

void Response::read_file_into_body() {
  body_.clear();
  // A file shrunk or failing meanwhile leaves what could be read.
  append_file_part(file_.get(), file_offset_, length_not_read_.value_or(0), body_);
  file_ = Fd();
  file_offset_ = 0;
  length_not_read_.reset();
}

void Response::refuse(int status, std::string_view why) {
  reset(answers_head_);
  status_ = status;
  add_field("Content-Type", detail::error_page_media_type);
  detail::append_error_page(body_, status, why);
}

void Response::complete_error_page() {
  if (!detail::wants_error_page(status_, content_length(), has_content_type_)) return;
  add_field("Content-Type", detail::error_page_media_type);
  detail::append_error_page(body_, status_, {});
}

std::uint64_t Response::content_length() const noexcept {
  return length_not_read_.value_or(0) + body_.size();
}

bool Response::allows_body() const noexcept { return detail::status_allows_content(status_); }

void Response::serialize(std::string& out, const WireContext& wire) const {
  out.append(head_start(status_, wire.server_name)).append(fields_);
  if (streamed_) {
    // Its length is not known: chunked, or (HTTP/1.0) up to the close.
    if (wire.request_version >= 11) out.append("Transfer-Encoding: chunked\r\n");
    if (!has_content_type_) out.append("Content-Type: ").append(detail::default_media_type).append("\r\n");
  } else if (allows_body()) {
    out.append("Content-Length: ");
    append_number(out, content_length());
    out.append("\r\n");
    if (content_length() > 0 && !has_content_type_)
      out.append("Content-Type: ").append(detail::default_media_type).append("\r\n");
  }
  if (!wire.keep_alive) {
    out.append("Connection: close\r\n");
  } else if (wire.request_version == 10) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
  if (allows_body() && !answers_head_) out.append(body_);
}

void Response::rebuild(const Parts& parts, Fd file) {
  status_ = parts.status;
  answers_head_ = parts.answers_head;
  has_content_type_ = parts.has_content_type;
  fields_.assign(parts.fields);
  body_.assign(parts.body);
  length_not_read_ = parts.length_not_read;
  file_ = std::move(file);
  file_offset_ = 0;
  resource_body_ = parts.resource_body;
  stream_.reset();
  streamed_ = parts.streamed;
}

}  // namespace verbd::http
