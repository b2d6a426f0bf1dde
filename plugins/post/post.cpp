// POST: appends the body to a resource (201 + Location when this created it,
// 200 when it appended), or makes a new member with a server-chosen name in
// an existing collection (201 + Location). A missing collection is 404.
#include <verbd/http.hpp>
#include <verbd/plugin.hpp>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>

namespace {

using verbd::Entry;
using verbd::Status;

class PostPlugin {
 public:
  explicit PostPlugin(verbd::Host& host) : host_(host), store_(host.store()) {}

  void handle(const verbd::Request& request, verbd::Response& response) const {
    Entry current;
    Status status = store_.stat(request.path(), current);
    if (status != Status::ok && status != Status::not_found) return response.status(http_status(status));
    if (request.names_collection() || current.is_collection()) {
      if (!current.is_collection()) return response.status(404);
      return create_member(request, response);
    }
    Entry written;
    bool created = false;
    status = store_.write(request.path(), request.content(), media_type(request), verbd::WriteMode::append,
                          written, created);
    if (status != Status::ok) return response.status(http_status(status));
    response.header("ETag", written.etag());
    if (!created) return response.status(200);
    response.status(201);
    response.header("Location", verbd::percent_encode_path(request.path()));
  }

 private:
  void create_member(const verbd::Request& request, verbd::Response& response) const {
    std::string folder(request.path());
    if (folder.back() != '/') folder += '/';
    for (int attempt = 0; attempt < max_attempts; ++attempt) {
      std::string path = folder + unique_name();
      Entry written;
      bool created = false;
      Status status = store_.write(path, request.content(), media_type(request), verbd::WriteMode::create,
                                   written, created);
      if (status == Status::exists) continue;  // a name clash: draw again
      if (status != Status::ok) return response.status(http_status(status));
      response.status(201);
      response.header("Location", verbd::percent_encode_path(path));
      response.header("ETag", written.etag());
      return;
    }
    host_.log(verbd::LogLevel::error, "no free name in " + folder + " after " + std::to_string(max_attempts) +
                                          " draws: answered 500");
    response.status(500);
  }

  // Milliseconds since the epoch, then 32 random bits: sortable and unique.
  static std::string unique_name() {
    thread_local std::mt19937 random{std::random_device{}()};
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    char name[40];
    std::snprintf(name, sizeof name, "%013lld-%08x", static_cast<long long>(now.count()),
                  static_cast<unsigned>(random()));
    return name;
  }

  static std::string_view media_type(const verbd::Request& request) {
    return request.header("Content-Type").value_or("");
  }

  // Names clash only when two POSTs in the same millisecond draw the same
  // 32 random bits; eight clashes in a row mean something else is wrong.
  static constexpr int max_attempts = 8;

  verbd::Host& host_;
  const verbd::Store& store_;
};

}  // namespace

VERBD_PLUGIN(PostPlugin, "post", "1.1.0", "POST");
