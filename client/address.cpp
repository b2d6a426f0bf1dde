#include "address.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

namespace verb {

Address resolve(std::string_view base, std::string_view url) {
  auto parsed_base = boost::urls::parse_absolute_uri(base);
  if (!parsed_base)
    throw BadUrl("bad base URL '" + std::string(base) + "': " + parsed_base.error().message());
  auto reference = boost::urls::parse_uri_reference(url);
  if (!reference) throw BadUrl("bad URL '" + std::string(url) + "': " + reference.error().message());
  boost::urls::url full(*parsed_base);
  if (auto resolved = full.resolve(*reference); !resolved)
    throw BadUrl("cannot resolve '" + std::string(url) + "' against '" + std::string(base) + "'");
  if (full.scheme() != "http" && full.scheme() != "https")
    throw BadUrl("'" + std::string(full.buffer()) + "': only http:// and https:// URLs are supported");
  if (full.encoded_host().empty()) throw BadUrl("'" + std::string(full.buffer()) + "' names no host");

  Address address;
  address.host = full.host_address();
  address.tls = full.scheme() == "https";
  if (address.tls) address.port = 443;
  if (full.has_port()) {
    if (full.port().empty() || full.port_number() == 0)
      throw BadUrl("bad port in '" + std::string(full.buffer()) + "'");
    address.port = full.port_number();
  }
  address.target = std::string(full.encoded_target());
  if (address.target.empty() || address.target.front() != '/') address.target.insert(0, "/");
  address.authority = std::string(full.encoded_host_and_port());
  return address;
}

}  // namespace verb
