// Turns a request-target (RFC 9112 §3.2) into the clean path plugins see.
//
// Done once, here, for every request: percent-decoding, dropping "." and
// empty segments, resolving ".." — and refusing what cannot be made clean.
#pragma once

#include <string>
#include <string_view>

namespace verbd::http {

struct Target {
  std::string path;            // "/", "/a/b", "/a/b/"; "*" for asterisk-form; "" for authority-form
  std::string_view query;      // raw, without '?'
  std::string_view authority;  // from absolute-form or authority-form, else empty
};

enum class TargetError { none, malformed, escapes_root, bad_segment, wrong_form_for_method };

// Fills `out` (reusing its capacity) or says why the target is refused (400).
TargetError clean_target(std::string_view target, std::string_view method, Target& out);
// The same without the shortcut for already clean paths: every target goes
// through Boost.URL. For tests, which check that both agree.
TargetError clean_target_by_url(std::string_view target, std::string_view method, Target& out);

const char* describe(TargetError error) noexcept;

}  // namespace verbd::http
