// A well-behaved test plugin for ECHO: answers with what it was given, and
// with its setting "greeting" in X-Greeting.
#include <verbd/plugin.hpp>

#include <string>

namespace {

class EchoPlugin {
 public:
  explicit EchoPlugin(verbd::Host& host) : greeting_(host.setting("greeting", "hello")) {}

  void handle(const verbd::Request& request, verbd::Response& response) const {
    response.status(200);
    response.header("Content-Type", "text/plain");
    response.header("X-Greeting", greeting_);
    response.append(std::string(request.method()) + " " + std::string(request.path()) + "?" +
                    std::string(request.query()) + "\n");
    response.append(request.body());
  }

 private:
  std::string greeting_;
};

}  // namespace

VERBD_PLUGIN(EchoPlugin, "echo", "2.1.0", "ECHO");
