// verb's three ways of working. Each returns the process exit code:
//   0  done (and, in a script, every case passed)
//   1  an HTTP error status with --fail, or a failed case in a script
//   2  a bad command line, URL or script file
//   3  cannot connect (refused, unknown host, unreachable)
//   4  timed out
//   5  the response was not valid HTTP
#pragma once

#include "connection.hpp"

#include <chrono>
#include <iosfwd>
#include <string>
#include <vector>

namespace verb {

struct Options {
  std::string base = "http://127.0.0.1:8080";
  std::chrono::milliseconds timeout{30000};
  TlsOptions tls;  // for https://
};

struct OneShot {
  std::string method;
  std::string url;
  std::string data;  // "@file" reads the file
  bool has_data = false;
  std::vector<std::string> fields;
  bool include = false;  // -i: the status line and fields before the body
  bool verbose = false;  // -v: the request, and 1xx responses, on stderr
  bool http10 = false;
  bool fail = false;  // --fail: exit 1 for 4xx and 5xx
};

int interactive(const Options& options, std::istream& in, std::ostream& out);
int one_shot(const Options& options, const OneShot& request);
int script(const Options& options, const std::string& file);

}  // namespace verb
