// LATE waits, then writes its body to its path: a plugin that does its
// store change a while after the host checked the request's locks, as one
// that first asks a slow backend would. Written without WebDAV in mind: any
// failure is a 500. `/path?ms=N` waits N milliseconds.
#include <verbd/plugin.hpp>

#include <chrono>
#include <string>
#include <thread>

namespace {

struct LateWriter {
  explicit LateWriter(verbd::Host& host) : store_(host.store()) {}

  void handle(const verbd::Request& request, verbd::Response& response) const {
    std::string_view query = request.query();
    int wait_ms = query.starts_with("ms=") ? std::stoi(std::string(query.substr(3))) : 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    verbd::Entry written;
    bool created = false;
    verbd::Status status =
        store_.write(request.path(), request.body(), "", verbd::WriteMode::replace, written, created);
    response.status(status != verbd::Status::ok ? 500 : created ? 201 : 204);
  }

 private:
  const verbd::Store& store_;
};

}  // namespace

VERBD_PLUGIN(LateWriter, "late_writer", "1.0.0", "LATE");
