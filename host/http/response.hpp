// The response under construction: what plugins fill through the C table
// (status, fields, body or a stored resource) and what the host adds on the
// wire (Date, Server, Content-Length, Connection).
//
// Reused from request to request on a connection; reset() keeps capacity.
#pragma once

#include "store/store.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace verbd::http {

const char* reason_phrase(int status) noexcept;

struct WireContext {
  std::string_view server_name;
  bool keep_alive = true;
  int request_version = 11;
};

class Response {
 public:
  // `store` serves attach(); it must outlive the response's use.
  void reset(bool answers_head, store::Store* store);

  // For plugins (each checks what it is given; see problem()).
  void set_status(int status);
  void add_header(std::string_view name, std::string_view value);
  void append(std::string_view bytes);
  store::Status attach(std::string_view path, store::Entry& entry);

  // For the host.
  void refuse(int status, std::string_view why);  // a short text/plain error page
  void add_trusted_header(std::string_view name, std::string_view value);
  // Gives an empty error response its text body, as nginx's error pages do.
  void complete_error_page();

  int status() const noexcept { return status_; }
  std::uint64_t content_length() const noexcept;
  // Set when a plugin broke the contract: the host must answer 500 instead.
  const std::string& problem() const noexcept { return problem_; }

  // Appends the whole message (head, then the body unless none is allowed).
  // A body left in its file is not appended: see file_to_send().
  void serialize(std::string& out, const WireContext& wire) const;
  // The body still in a stored resource's file (a large one; see
  // Store::read_for_sending), to be sent right after the serialized head;
  // not ok() when there is none. Its length is content_length().
  store::Fd file_to_send() noexcept;

  // Frees the body's buffer if a large response grew it beyond `bytes`.
  void trim(std::size_t bytes);

 private:
  bool allows_body() const noexcept;
  void read_file_into_body();

  int status_ = 200;
  bool answers_head_ = false;
  store::Store* store_ = nullptr;
  bool has_content_type_ = false;
  std::string fields_;  // "Name: value\r\n" lines, as they will go out
  std::string body_;
  std::optional<std::uint64_t> length_not_read_;  // HEAD of a stored resource, or a body in file_
  store::Fd file_;
  std::string problem_;
};

}  // namespace verbd::http
