// What a connection needs only while a request is in progress: the parser,
// the request, the response, the bytes on their way out, and the input of a
// request that arrived in pieces.
//
// An idle keep-alive connection holds none of it. Each worker keeps a pool of
// workspaces and lends one to a connection from the first byte of a request
// until its response is written; so thousands of idle connections cost
// little, and a busy one reuses buffers that already have their capacity
// (no allocation per request in the steady state).
#pragma once

#include "common/fd.hpp"
#include "http/parser.hpp"
#include "http/request.hpp"
#include "http/responder.hpp"
#include "http/response.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace verbd::net {

struct Workspace {
  std::optional<http::Parser> parser;  // set while a request is being read
  http::Request request;
  std::chrono::steady_clock::time_point request_start;  // its first byte read
  std::shared_ptr<http::Pending> pending;               // its answer, being prepared elsewhere
  http::Response response;
  std::string output;           // responses not yet written, in order
  std::size_t output_sent = 0;  // of which the socket has taken so many bytes
  Fd file;                      // after output: a body sent from its file
  std::uint64_t file_at = 0, file_end = 0;  // where the next byte to send is, and the end
  // After output: a body its plugin is still making (http/body_stream.hpp).
  std::shared_ptr<http::BodyStream> stream;
  std::string piece;     // what was last taken from it
  bool chunked = false;  // framed chunked (else ended by the close)
  bool close_after_stream = false;
  std::uint64_t streamed_bytes = 0;  // head and body, for the access log
  std::uint64_t streamed_head_bytes = 0;
  std::vector<char> input;           // an incomplete request, kept between reads

  bool sending() const noexcept { return !output.empty() || file.ok() || stream; }
};

class WorkspacePool {
 public:
  // Buffers grown beyond this by a large request or response are freed when
  // the workspace comes back, so that the pool does not hoard them.
  static constexpr std::size_t kept_buffer_bytes = 64 * 1024;

  // At most `spares` idle workspaces are kept; more are freed.
  explicit WorkspacePool(std::size_t spares = 256) : max_spares_(spares) { spares_.reserve(spares); }

  std::unique_ptr<Workspace> take() {
    if (spares_.empty()) return std::make_unique<Workspace>();
    auto workspace = std::move(spares_.back());
    spares_.pop_back();
    return workspace;
  }

  void give_back(std::unique_ptr<Workspace> workspace) {
    if (spares_.size() == max_spares_) return;
    workspace->parser.reset();
    workspace->output.clear();
    workspace->output_sent = 0;
    workspace->file = Fd();
    workspace->stream.reset();
    workspace->pending.reset();
    workspace->input.clear();
    workspace->request.clear();
    trim(workspace->output);
    trim(workspace->input);
    trim(workspace->piece);
    trim(workspace->request.body);
    workspace->response.trim(kept_buffer_bytes);
    spares_.push_back(std::move(workspace));
  }

  std::size_t spares() const noexcept { return spares_.size(); }

 private:
  template <typename Buffer>
  static void trim(Buffer& buffer) {
    if (buffer.capacity() > kept_buffer_bytes) Buffer().swap(buffer);  // (assigning {} keeps a string's)
  }

  std::size_t max_spares_;
  std::vector<std::unique_ptr<Workspace>> spares_;
};

}  // namespace verbd::net
