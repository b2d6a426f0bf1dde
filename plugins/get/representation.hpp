// The selected representation of a path: what GET sends and HEAD describes
// (RFC 9110 §9.3.1, §9.3.2). Shared by the get and head plugins so that a
// HEAD answer is GET's, field for field; the host drops HEAD's body.
#pragma once

#include <verbd/http.hpp>
#include <verbd/plugin.hpp>

#include <stdexcept>
#include <string>

namespace verbd::standard {

class Representation {
 public:
  explicit Representation(Host& host) : store_(host.store()), index_(host.setting("index", "index.html")) {
    if (index_.empty() || index_.find('/') != std::string::npos || index_ == "." || index_ == "..")
      throw std::invalid_argument("setting 'index' must be a file name, not '" + index_ + "'");
  }

  void answer(const Request& request, Response& response) const {
    Entry entry;
    Status status =
        request.names_collection() ? Status::is_collection : response.resource(request.path(), entry);
    if (status == Status::is_collection) return answer_collection(request, response);
    if (status != Status::ok) return response.status(http_status(status));
    answer_resource(request, response, entry);
  }

 private:
  // A collection answers with its index resource, else with a listing.
  void answer_collection(const Request& request, Response& response) const {
    std::string folder(request.path());
    if (folder.back() != '/') folder += '/';
    Entry entry;
    if (response.resource(folder + index_, entry) == Status::ok)
      return answer_resource(request, response, entry);
    std::string listing;
    Status status = store_.list(folder, listing);
    if (status != Status::ok) return response.status(http_status(status));
    response.status(200);
    response.header("Content-Type", "text/plain; charset=utf-8");
    response.append(listing);
  }

  static void answer_resource(const Request& request, Response& response, const Entry& entry) {
    response.header("ETag", entry.etag());
    char modified[29];
    format_http_date(entry.modified_unix(), modified);
    response.header("Last-Modified", std::string_view(modified, sizeof modified));
    if (not_modified(request, entry)) return response.status(304);
    response.status(200);
    response.header("Content-Type", entry.media_type());
  }

  // RFC 9110 §13.2.2: If-None-Match decides when present; else If-Modified-Since.
  static bool not_modified(const Request& request, const Entry& entry) {
    if (auto tags = request.header("If-None-Match")) return etag_list_matches(*tags, entry.etag(), true);
    if (auto since = request.header("If-Modified-Since")) {
      auto date = parse_http_date(*since);
      return date && entry.modified_unix() <= *date;
    }
    return false;
  }

  const Store& store_;
  std::string index_;
};

}  // namespace verbd::standard
