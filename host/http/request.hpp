// One request as the host holds it between the parser and what answers it.
//
// Everything lives in buffers owned by this object (the head in `head_bytes`,
// the body in `body`, or in `body_file` when it is too large for memory) so
// that the connection may move or refill its read buffer while the request
// is in flight. Reused from request to request on a
// connection: clear() keeps the capacity, so steady state does not allocate.
#pragma once

#include "common/fd.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace verbd::http {

struct Field {
  std::string_view name;  // as sent
  std::string_view value;
};

struct Request {
  std::string_view method;
  std::string_view target;
  std::string_view host;       // the Host field's value, or the absolute-form authority
  int version = 11;            // 10 or 11
  std::vector<Field> headers;  // in the order received
  std::string body;            // the body, when it is held in memory
  // The body, when it was spooled (over [limits] body_in_memory_bytes): an
  // unnamed file that vanishes when closed, unless a store adopted it.
  Fd body_file;
  std::uint64_t body_file_size = 0;

  bool keep_alive = true;
  bool expects_continue = false;
  bool announces_spooled_body = false;  // a Content-Length over body_in_memory_bytes

  // Method, target, field names and values, back to back; the views above
  // point into it once the head is complete.
  std::string head_bytes;
  struct FieldAt {
    std::size_t name, name_size, value, value_size;
  };
  std::vector<FieldAt> fields_at;

  void clear() {
    method = target = host = {};
    version = 11;
    headers.clear();
    body.clear();
    body_file = Fd();
    body_file_size = 0;
    keep_alive = true;
    expects_continue = false;
    announces_spooled_body = false;
    head_bytes.clear();
    fields_at.clear();
  }

  bool body_spooled() const noexcept { return body_file.ok(); }
  std::uint64_t body_size() const noexcept { return body_spooled() ? body_file_size : body.size(); }
  // Moves the body, wherever it is, to `other` (whose own goes to this one).
  void swap_body(Request& other) noexcept {
    body.swap(other.body);
    std::swap(body_file, other.body_file);
    std::swap(body_file_size, other.body_file_size);
  }

  // The first field with this name (any case), or an empty view.
  std::string_view header(std::string_view name) const noexcept;

  // Sets method, target, headers and host from head_bytes and fields_at
  // (field 0 holds the method and the target).
  void point_views_into_head();
  // Becomes a copy of `other`'s head, with views into its own bytes; the body is left as it is.
  void copy_head_of(const Request& other);
};

}  // namespace verbd::http
