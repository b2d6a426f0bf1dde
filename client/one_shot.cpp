// One request from the command line: prints the body (with -i, the status
// line and fields first; with -v, the request on stderr).
#include "connection.hpp"
#include "modes.hpp"
#include "request.hpp"

#include <fstream>
#include <iostream>
#include <sstream>

namespace verb {
namespace {

// "-d @file" reads the file; "-d text" is the text.
bool load_body(const OneShot& shot, std::string& body) {
  if (shot.data.empty() || shot.data.front() != '@') {
    body = shot.data;
    return true;
  }
  std::ifstream file(shot.data.substr(1), std::ios::binary);
  if (!file) return false;
  std::ostringstream bytes;
  bytes << file.rdbuf();
  body = bytes.str();
  return true;
}

}  // namespace

int one_shot(const Options& options, const OneShot& shot) {
  Request request;
  request.method = shot.method;
  request.version = shot.http10 ? "HTTP/1.0" : "HTTP/1.1";
  request.fields = shot.fields;
  request.send_length = shot.has_data;
  if (!load_body(shot, request.body)) {
    std::cerr << "verb: cannot read " << shot.data.substr(1) << "\n";
    return 2;
  }
  try {
    request.address = resolve(options.base, shot.url);
    Connection connection(options.timeout, options.tls);
    connection.open(request.address.host, request.address.port, request.address.tls);
    std::string wire = request.wire();
    if (shot.verbose) std::cerr << wire << (wire.back() == '\n' ? "" : "\n");
    connection.send(wire);
    Response response = connection.receive(request.method == "HEAD");
    if (shot.verbose)
      for (const auto& interim : response.interim) std::cerr << interim;
    if (shot.include) std::cout << response.head;
    std::cout << response.body << std::flush;
    return shot.fail && response.status >= 400 ? 1 : 0;
  } catch (const BadUrl& e) {
    std::cerr << "verb: " << e.what() << "\n";
    return 2;
  } catch (const ConnectFailed& e) {
    std::cerr << "verb: " << e.what() << "\n";
    return 3;
  } catch (const TimedOut& e) {
    std::cerr << "verb: " << e.what() << "\n";
    return 4;
  } catch (const Malformed& e) {
    std::cerr << "verb: " << e.what() << "\n";
    return 5;
  }
}

}  // namespace verb
