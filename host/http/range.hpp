// Range requests (RFC 9110 §14): a GET of a stored resource may ask for one
// part of it — "Range: bytes=0-499" (the first 500 bytes), "bytes=500-"
// (from byte 500 on), "bytes=-500" (the last 500) — and gets 206 (Partial
// Content) with that part and a Content-Range field; a part that starts past
// the end gets 416 (Range Not Satisfiable). A client resuming a download, or
// a player seeking in a video, asks this way.
//
// The host does it, after the plugin, for any response whose body is a
// resource of the store (response_resource): the plugin chooses the
// representation and its validators, and the host serves a part of it, from
// memory or from its file with sendfile(2) like the whole. What a plugin
// makes itself (appended bytes, its own file, a body sent in pieces) is
// sent whole, since nothing says that two requests would see the same bytes.
//
// Where RFC 9110 lets a server ignore Range, verbd does, and answers 200
// with the whole: a field it cannot parse, a unit other than bytes, more
// than one part asked (multipart/byteranges is not made), an empty
// resource, and an If-Range whose validator does not match the resource's
// current ETag (strongly) or Last-Modified (exactly, §13.1.5). A plugin
// that sets "Accept-Ranges: none" has its resources sent whole.
#pragma once

#include "http/request.hpp"
#include "http/response.hpp"

#include <cstdint>
#include <string_view>

namespace verbd::http {

// What a Range field asks of a representation of `size` bytes.
struct RangeAsked {
  enum class Kind {
    whole,          // nothing, or a field to ignore: send it all (200)
    part,           // bytes first .. first + length - 1 (206)
    unsatisfiable,  // it starts past the end (416)
  };
  Kind kind = Kind::whole;
  std::uint64_t first = 0;
  std::uint64_t length = 0;
};

RangeAsked parse_range(std::string_view field, std::uint64_t size) noexcept;

// After the plugin: adds Accept-Ranges to a GET or HEAD answered 200 with a
// resource, and serves the part a GET asks for (206, or 416).
void answer_range(const Request& request, Response& response);

}  // namespace verbd::http
