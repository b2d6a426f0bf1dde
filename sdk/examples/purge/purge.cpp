// PURGE: removes a resource or a collection from the store and says so.
// A stand-alone plugin project, built against the installed verbd SDK:
//
//   cmake -S . -B build -DCMAKE_PREFIX_PATH=/where/verbd/is/installed
//   cmake --build build
//   cp build/purge.so /path/to/verbd/plugins/
#include <verbd/plugin.hpp>

#include <string>

namespace {

class PurgePlugin {
 public:
  explicit PurgePlugin(verbd::Host& host) : host_(host) {}

  void handle(const verbd::Request& request, verbd::Response& response) const {
    verbd::Status status = host_.store().remove(request.path());
    if (status != verbd::Status::ok) return response.status(verbd::http_status(status));
    host_.log(verbd::LogLevel::info, "purged " + std::string(request.path()));
    response.status(200);
    response.header("Content-Type", "text/plain; charset=utf-8");
    response.append("purged " + std::string(request.path()) + "\n");
  }

 private:
  verbd::Host& host_;
};

}  // namespace

VERBD_PLUGIN(PurgePlugin, "purge", "1.0.0", "PURGE");
