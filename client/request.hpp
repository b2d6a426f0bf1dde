// A request as verb sends it: the exact bytes, so that -v and the
// interactive mode can show them as they went over the wire.
#pragma once

#include "address.hpp"

#include <string>
#include <vector>

namespace verb {

struct Request {
  std::string method = "GET";
  Address address;
  std::string version = "HTTP/1.1";  // or "HTTP/1.0"
  std::vector<std::string> fields;   // "Name: value", added after Host
  std::string body;
  bool send_length = false;  // Content-Length even when the body is empty

  // Request line, Host, the fields, Content-Length when there is a body,
  // the blank line, the body.
  std::string wire() const;
};

// Methods for which the interactive mode asks for a message body.
bool takes_body(const std::string& method);

}  // namespace verb
