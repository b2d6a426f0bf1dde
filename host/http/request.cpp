#include "http/request.hpp"

#include "common/ascii.hpp"

#include <cstdint>

namespace verbd::http {

std::string_view Request::header(std::string_view name) const noexcept {
  for (const auto& field : headers)
    if (ascii::iequals(field.name, name)) return field.value;
  return {};
}

void Request::point_views_into_head() {
  const char* base = head_bytes.data();
  const auto& line = fields_at.front();
  method = {base + line.name, line.name_size};
  target = {base + line.value, line.value_size};
  headers.clear();
  for (std::size_t i = 1; i < fields_at.size(); ++i) {
    const auto& at = fields_at[i];
    headers.push_back({{base + at.name, at.name_size}, {base + at.value, at.value_size}});
  }
  host = header("Host");
}

void Request::copy_head_of(const Request& other) {
  version = other.version;
  keep_alive = other.keep_alive;
  expects_continue = other.expects_continue;
  announces_spooled_body = other.announces_spooled_body;
  if (!other.fields_at.empty()) {
    head_bytes = other.head_bytes;
    fields_at = other.fields_at;
  } else {  // not from a parser (a test's): the bytes are gathered here
    head_bytes.clear();
    fields_at.clear();
    auto keep = [this](std::string_view name, std::string_view value) {
      fields_at.push_back({head_bytes.size(), name.size(), head_bytes.size() + name.size(), value.size()});
      head_bytes.append(name).append(value);
    };
    keep(other.method, other.target);
    for (const auto& field : other.headers) keep(field.name, field.value);
  }
  point_views_into_head();
  // The authority of an absolute-form target, rather than the Host field.
  auto base = reinterpret_cast<std::uintptr_t>(other.head_bytes.data());
  auto at = reinterpret_cast<std::uintptr_t>(other.host.data());
  if (!other.host.empty() && at >= base && at < base + other.head_bytes.size())
    host = {head_bytes.data() + (at - base), other.host.size()};
}

}  // namespace verbd::http
