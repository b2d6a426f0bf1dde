// Fuzzes the Range field's parser with any text and any representation size.
//
// Besides crashes and sanitizer reports, it checks that a part it asks for
// lies within the representation and is not empty, that only a non-empty
// representation can be unsatisfiable, and that the part, written out
// again as "bytes=FIRST-LAST", reads back the same.
#include "http/range.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using verbd::http::RangeAsked;
  std::uint64_t length = 0;  // the representation's: the first 8 bytes (the seeds: little-endian)
  if (size >= sizeof length) {
    std::memcpy(&length, data, sizeof length);
    data += sizeof length;
    size -= sizeof length;
  }
  std::string_view field(reinterpret_cast<const char*>(data), size);
  RangeAsked asked = verbd::http::parse_range(field, length);
  if (asked.kind == RangeAsked::Kind::unsatisfiable) require(length > 0);
  if (asked.kind != RangeAsked::Kind::part) return 0;
  require(asked.length > 0 && asked.first < length && asked.length <= length - asked.first);
  std::string again =
      "bytes=" + std::to_string(asked.first) + "-" + std::to_string(asked.first + asked.length - 1);
  RangeAsked reread = verbd::http::parse_range(again, length);
  require(reread.kind == RangeAsked::Kind::part && reread.first == asked.first &&
          reread.length == asked.length);
  return 0;
}
