// Fuzzes path normalisation with any request-target and method.
//
// Besides crashes and sanitizer reports, it checks that every target
// accepted becomes a path plugins may trust (absolute, no empty, "." or ".."
// segment, no NUL), that cleaning is idempotent: the clean path, sent
// again percent-encoded, comes back unchanged; and that the shortcut for
// already clean targets agrees with the general way through Boost.URL.
#include "http/target.hpp"

#include <verbd/detail/store_rules.hpp>
#include <verbd/http.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const char* const methods[] = {"GET", "OPTIONS", "CONNECT", "PUT"};
  std::string_view method = methods[data[0] % 4];
  std::string_view target(reinterpret_cast<const char*>(data) + 1, size - 1);
  verbd::http::Target cleaned, by_url;
  auto error = verbd::http::clean_target(target, method, cleaned);
  require(verbd::http::clean_target_by_url(target, method, by_url) == error);
  if (error != verbd::http::TargetError::none) return 0;
  require(cleaned.path == by_url.path && cleaned.query == by_url.query &&
          cleaned.authority == by_url.authority);
  if (cleaned.path == "*" || method == "CONNECT") return 0;
  require(verbd::detail::is_clean_path(cleaned.path));

  verbd::http::Target again;
  std::string encoded = verbd::percent_encode_path(cleaned.path);
  require(verbd::http::clean_target(encoded, "GET", again) == verbd::http::TargetError::none);
  require(again.path == cleaned.path);
  return 0;
}
