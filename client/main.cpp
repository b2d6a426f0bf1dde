// verb: a small HTTP/1.1 client that shows the protocol as it goes over the wire.
//
//   verb [--base URL]                                      interactive
//   verb METHOD URL [-d DATA|-d @FILE] [-H 'Name: value']... [-i] [-v] [--http1.0] [--timeout S] [--fail]
//   (each also with --cacert FILE or --insecure for https:// URLs)
//   verb --script CASES.toml [--base URL]                  scripted
#include "modes.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{
      "verb: a small HTTP/1.1 client that shows the protocol as it goes over the wire.\n"
      "Without METHOD and URL it asks for them, one request after another."};
  verb::Options options;
  verb::OneShot shot;
  std::string script_file;
  double timeout_seconds = 30;
  app.add_option("method", shot.method, "the request method, e.g. GET");
  app.add_option("url", shot.url, "a path relative to --base, or a full http:// or https:// URL");
  app.add_option("--base", options.base, "where relative URLs point")->default_val(options.base);
  app.add_option("--script", script_file, "run the [[case]] entries of a TOML file");
  app.add_option("-d,--data", shot.data, "the request body; @FILE reads it from FILE");
  app.add_option("-H,--header", shot.fields, "a request field, 'Name: value' (repeatable)");
  app.add_flag("-i,--include", shot.include, "print the status line and fields before the body");
  app.add_flag("-v,--verbose", shot.verbose, "print the request as sent, and 1xx responses, on stderr");
  app.add_flag("--http1.0", shot.http10, "send HTTP/1.0 instead of HTTP/1.1");
  app.add_flag("--fail", shot.fail, "exit 1 when the status is 4xx or 5xx");
  app.add_option("--cacert", options.tls.cacert, "https://: trust the authorities in this PEM file")
      ->check(CLI::ExistingFile);
  app.add_flag("-k,--insecure", options.tls.insecure, "https://: do not check the server's certificate");
  app.add_option("--timeout", timeout_seconds, "seconds to wait for a response")->check(CLI::PositiveNumber);
  app.set_version_flag("--version", "verb " VERBD_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  std::signal(SIGPIPE, SIG_IGN);  // a server that closed: an error to report, not a reason to die
  options.timeout = std::chrono::milliseconds(static_cast<long>(timeout_seconds * 1000));
  shot.has_data = app.count("--data") > 0;

  if (!script_file.empty()) return verb::script(options, script_file);
  if (shot.method.empty()) return verb::interactive(options, std::cin, std::cout);
  if (shot.url.empty()) {
    std::cerr << "verb: a URL must follow the method (see verb --help)\n";
    return 2;
  }
  return verb::one_shot(options, shot);
}
