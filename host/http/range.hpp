// Range requests (RFC 9110 §14): a GET of a stored resource may ask for
// parts of it — "Range: bytes=0-499" (the first 500 bytes), "bytes=500-"
// (from byte 500 on), "bytes=-500" (the last 500) — and gets 206 (Partial
// Content) with that part and a Content-Range field. Parts that start past
// the end are left out; when none is left, 416 (Range Not Satisfiable). A
// client resuming a download, or a player seeking in a video, asks this way.
//
// The host does it, after the plugin, for any response whose body is a
// resource of the store (response_resource): the plugin chooses the
// representation and its validators, and the host serves a part of it, from
// memory or from its file with sendfile(2) like the whole. What a plugin
// makes itself (appended bytes, its own file, a body sent in pieces) is
// sent whole, since nothing says that two requests would see the same bytes.
//
// Several parts ("bytes=0-99,500-599") are sent as one multipart/byteranges
// body (§14.6): each part after a boundary line, with its own Content-Type
// and Content-Range. Parts that overlap or lie closer than a part's own
// framing (about 80 bytes) are sent as one (§15.3.7.2); what remains as one
// part is an ordinary 206. Parts asked out of ascending order, more than
// `max_parts` of them, or more than `max_multipart_bytes` in all (the body
// is made in memory, where one part is sent from its file like the whole)
// get the whole, as §14.2 allows for a field that may be an attack.
//
// Where RFC 9110 lets a server ignore Range, verbd does, and answers 200
// with the whole: a field it cannot parse, a unit other than bytes, an
// empty resource, and an If-Range whose validator does not match the
// resource's current ETag (strongly) or Last-Modified (exactly, §13.1.5).
// A plugin that sets "Accept-Ranges: none" has its resources sent whole.
#pragma once

#include "http/request.hpp"
#include "http/response.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace verbd::http {

// Bytes first .. first + length - 1 of a representation.
struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t length = 0;
  friend bool operator==(const ByteRange&, const ByteRange&) = default;
};

// What a Range field asks of a representation of `size` bytes.
struct RangeAsked {
  enum class Kind {
    whole,          // nothing, or a field to ignore: send it all (200)
    parts,          // `parts`, in the order asked, apart from each other (206)
    unsatisfiable,  // every part starts past the end (416)
  };
  Kind kind = Kind::whole;
  std::vector<ByteRange> parts;
};

inline constexpr std::size_t max_parts = 32;
inline constexpr std::uint64_t max_multipart_bytes = 1 << 20;

RangeAsked parse_range(std::string_view field, std::uint64_t size);

// After the plugin: adds Accept-Ranges to a GET or HEAD answered 200 with a
// resource, and serves the parts a GET asks for (206, or 416).
void answer_range(const Request& request, Response& response);

}  // namespace verbd::http
