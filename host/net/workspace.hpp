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

#include "http/exchange.hpp"
#include "http/parser.hpp"
#include "http/request.hpp"
#include "http/response.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace verbd::net {

struct Workspace {
  Workspace(store::Store& store, const plugin::Registry& plugins) : exchange(store, plugins) {}

  http::Exchange exchange;
  std::optional<http::Parser> parser;  // set while a request is being read
  http::Request request;
  http::Response response;
  std::string output;           // responses not yet written, in order
  std::size_t output_sent = 0;  // of which the socket has taken so many bytes
  store::Fd file;               // after output: a body sent from its file
  std::uint64_t file_sent = 0, file_size = 0;
  std::vector<char> input;  // an incomplete request, kept between reads

  bool sending() const noexcept { return !output.empty() || file.ok(); }
};

class WorkspacePool {
 public:
  // Buffers grown beyond this by a large request or response are freed when
  // the workspace comes back, so that the pool does not hoard them.
  static constexpr std::size_t kept_buffer_bytes = 64 * 1024;

  // At most `spares` idle workspaces are kept; more are freed.
  WorkspacePool(store::Store& store, const plugin::Registry& plugins, std::size_t spares = 256)
      : store_(store), plugins_(plugins), max_spares_(spares) {
    spares_.reserve(spares);
  }

  std::unique_ptr<Workspace> take() {
    if (spares_.empty()) return std::make_unique<Workspace>(store_, plugins_);
    auto workspace = std::move(spares_.back());
    spares_.pop_back();
    return workspace;
  }

  void give_back(std::unique_ptr<Workspace> workspace) {
    if (spares_.size() == max_spares_) return;
    workspace->parser.reset();
    workspace->output.clear();
    workspace->output_sent = 0;
    workspace->file = store::Fd();
    workspace->input.clear();
    workspace->request.clear();
    trim(workspace->output);
    trim(workspace->input);
    trim(workspace->request.body);
    workspace->response.trim(kept_buffer_bytes);
    spares_.push_back(std::move(workspace));
    let_spares_go_of_old_plugins();
  }

  std::size_t spares() const noexcept { return spares_.size(); }

 private:
  // A spare may wait long for its next request: once plugins are reloaded,
  // spares drop the old generation rather than keep its plugins loaded.
  void let_spares_go_of_old_plugins() {
    if (plugins_.number() == generation_seen_) return;
    generation_seen_ = plugins_.number();
    for (auto& spare : spares_) spare->exchange.let_go_of_old_generation();
  }

  template <typename Buffer>
  static void trim(Buffer& buffer) {
    if (buffer.capacity() > kept_buffer_bytes) Buffer().swap(buffer);  // (assigning {} keeps a string's)
  }

  store::Store& store_;
  const plugin::Registry& plugins_;
  std::size_t max_spares_;
  std::vector<std::unique_ptr<Workspace>> spares_;
  std::uint64_t generation_seen_ = 0;
};

}  // namespace verbd::net
