#include "request.hpp"

#include <strings.h>

namespace verb {

namespace {
bool has_field(const std::vector<std::string>& fields, std::string_view name) {
  for (const auto& field : fields)
    if (field.size() > name.size() && field[name.size()] == ':' &&
        ::strncasecmp(field.data(), name.data(), name.size()) == 0)
      return true;
  return false;
}
}  // namespace

std::string Request::wire() const {
  std::string out = method + " " + address.target + " " + version + "\r\n";
  if (!has_field(fields, "Host")) out += "Host: " + address.authority + "\r\n";
  for (const auto& field : fields) out += field + "\r\n";
  if ((!body.empty() || send_length) && !has_field(fields, "Content-Length") &&
      !has_field(fields, "Transfer-Encoding"))
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "\r\n";
  out += body;
  return out;
}

bool takes_body(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

}  // namespace verb
