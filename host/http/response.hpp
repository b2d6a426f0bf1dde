// The response under construction: what the host's dispatch fills for a
// plugin (status, fields, body or a stored resource) or for a refusal, and
// what the host adds on the wire (Date, Server, Content-Length, Connection).
//
// It trusts its caller: whoever hands it a status or a field has checked it
// (the dispatch layer holds plugins to <verbd/detail/rules.hpp>).
//
// Reused from request to request on a connection; reset() keeps capacity.
#pragma once

#include "common/fd.hpp"
#include "http/body_stream.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace verbd::http {

struct WireContext {
  std::string_view server_name;
  bool keep_alive = true;
  int request_version = 11;
};

class Response {
 public:
  void reset(bool answers_head);
  bool answers_head() const noexcept { return answers_head_; }

  void set_status(int status) noexcept { status_ = status; }
  void add_field(std::string_view name, std::string_view value);
  // Bytes after the body so far (after a resource given below, too).
  void append(std::string_view bytes);
  // Empties the body and returns it, for a store to read a resource into.
  std::string& fresh_body();
  // The body is a resource of `length` bytes that is not read: HEAD.
  void set_unread_body(std::uint64_t length);
  // The body is the first `length` bytes of `file`, sent after the head.
  void set_file_body(Fd file, std::uint64_t length);
  // The body is made while it is sent (a plugin's response_send), in
  // pieces from `stream`: framed chunked for HTTP/1.1, ended by closing the
  // connection for HTTP/1.0. The body set before is dropped. For HEAD, no
  // stream: the head says what GET's would (no Content-Length).
  void set_streamed_body(std::shared_ptr<BodyStream> stream);
  const std::shared_ptr<BodyStream>& stream() const noexcept { return stream_; }
  // Moves out the bytes appended so far, which a streamed body sends first.
  std::string take_appended() noexcept { return std::exchange(body_, std::string()); }
  // A resource or file makes the body (set_unread_body, set_file_body).
  bool has_unread_body() const noexcept { return length_not_read_.has_value(); }
  // The body set last is a resource of the store, and nothing was appended
  // to it: a Range may ask for a part of it (http/range.hpp).
  void mark_body_as_resource() noexcept { resource_body_ = true; }
  bool body_is_resource() const noexcept { return resource_body_; }
  // Keeps `length` bytes of the body from byte `first` (both within it).
  void keep_part(std::uint64_t first, std::uint64_t length);
  // Appends to `out` the body's `length` bytes from byte `first`, from
  // memory or its file; false when they cannot all be read (a file that
  // shrank, a resource not read).
  bool copy_part(std::uint64_t first, std::uint64_t length, std::string& out) const;
  // `body` in place of the body set before, in memory; no longer a resource.
  void replace_body(std::string body);
  // `name: value` in place of every field of that name.
  void replace_field(std::string_view name, std::string_view value);

  // A short text/plain error page, in place of anything set before.
  void refuse(int status, std::string_view why);
  // Gives an empty error response its text body, as nginx's error pages do.
  void complete_error_page();

  int status() const noexcept { return status_; }
  // The value of the first field set with this name (any case), or empty.
  std::string_view field(std::string_view name) const noexcept;
  std::uint64_t content_length() const noexcept;
  // The body's bytes that go on the wire (none for HEAD, 204, 304).
  std::uint64_t body_bytes_sent() const noexcept {
    return allows_body() && !answers_head_ ? content_length() : 0;
  }

  // Appends the whole message (head, then the body unless none is allowed).
  // A body left in its file is not appended: see file_to_send().
  void serialize(std::string& out, const WireContext& wire) const;
  // The body still in a file (a large resource; see
  // store::Store::read_for_sending), to be sent right after the serialized
  // head; not ok() when there is none. Its length is content_length(),
  // from byte file_offset() of the file.
  Fd file_to_send() noexcept;
  std::uint64_t file_offset() const noexcept { return file_offset_; }

  // A finished response as it stands, to hand it to another process and
  // rebuild it there (dispatch/isolated.hpp).
  struct Parts {
    int status = 200;
    bool answers_head = false;
    bool has_content_type = false;
    std::string_view fields;  // "Name: value\r\n" lines
    std::string_view body;
    std::optional<std::uint64_t> length_not_read;
    bool streamed = false;  // a head whose body is sent in pieces, apart
    bool resource_body = false;
  };
  Parts parts() const noexcept {
    return {status_, answers_head_,    has_content_type_, fields_,
            body_,   length_not_read_, streamed_,         resource_body_};
  }
  // `file`: the body left in its file, when there was one (file_to_send()).
  // A streamed body's stream is not part of it: see set_streamed_body().
  void rebuild(const Parts& parts, Fd file);

  // Frees the body's buffer if a large response grew it beyond `bytes`.
  void trim(std::size_t bytes);

 private:
  bool allows_body() const noexcept;
  void read_file_into_body();

  int status_ = 200;
  bool answers_head_ = false;
  bool has_content_type_ = false;
  std::string fields_;  // "Name: value\r\n" lines, as they will go out
  std::string body_;
  // A resource's length, not in body_: HEAD (never read), or a body in file_
  // (sent after the head). The body is this, then body_.
  std::optional<std::uint64_t> length_not_read_;
  Fd file_;
  std::uint64_t file_offset_ = 0;  // where in file_ the body starts
  bool resource_body_ = false;
  std::shared_ptr<BodyStream> stream_;  // the body, when it is streamed
  bool streamed_ = false;               // (for HEAD, without a stream)
};

}  // namespace verbd::http
