// A whole verbd worker in the test process — store, plugin generation,
// server on an ephemeral port of 127.0.0.1 — built from a Config as a
// worker process builds it, without a supervisor.
#pragma once

#include "board/board.hpp"
#include "config/config.hpp"
#include "net/server.hpp"
#include "plugin/loader.hpp"
#include "store/store.hpp"

#include <filesystem>
#include <memory>
#include <string>

namespace verbd::test {

// Defaults for tests: port 0, the given backend and plugin folder, quiet logs.
config::Config test_config(const std::string& backend, const std::filesystem::path& data_root,
                           const std::filesystem::path& plugin_folder = VERBD_PLUGIN_DIR);

class TestServer {
 public:
  explicit TestServer(const config::Config& config);
  ~TestServer();

  std::uint16_t port() const { return server_->port(); }
  const plugin::LoadReport& report() const { return report_; }
  store::Store& store() { return *store_; }

 private:
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<plugin::Loader> loader_;
  plugin::Registry registry_;
  plugin::LoadReport report_;
  std::unique_ptr<board::Board> board_;
  std::unique_ptr<net::Server> server_;
};

}  // namespace verbd::test
