// Fuzzes the Range field's parser with any text and any representation size.
//
// Besides crashes and sanitizer reports, it checks that the parts it asks
// for lie within the representation, are not empty, are at most max_parts,
// come in ascending order at least a part's framing (80 bytes) apart, that
// only a non-empty representation can be unsatisfiable, and that the parts,
// written out again as "bytes=FIRST-LAST,...", read back the same.
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
  if (asked.kind != RangeAsked::Kind::parts) return 0;
  require(!asked.parts.empty() && asked.parts.size() <= verbd::http::max_parts);
  std::string again = "bytes=";
  std::uint64_t end_before = 0;
  for (std::size_t i = 0; i < asked.parts.size(); ++i) {
    const auto& part = asked.parts[i];
    require(part.length > 0 && part.first < length && part.length <= length - part.first);
    require(i == 0 || part.first >= end_before + 80);
    end_before = part.first + part.length;
    again += std::to_string(part.first) + "-" + std::to_string(part.first + part.length - 1) + ",";
  }
  RangeAsked reread = verbd::http::parse_range(again, length);
  require(reread.kind == RangeAsked::Kind::parts && reread.parts == asked.parts);
  return 0;
}
