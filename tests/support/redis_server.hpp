// A redis-server of the tests' own (Debian's redis-server), on a free
// port of 127.0.0.1, keeping nothing on disk; ended with this object.
#pragma once

#include "config/config.hpp"
#include "process.hpp"
#include "temp_folder.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace verbd::test {

class RedisServer {
 public:
  // `options` go on redis-server's command line ("--maxmemory", "1mb").
  explicit RedisServer(std::vector<std::string> options = {});

  // One for the whole test program, started on first use: suites share
  // it, each test with keys of its own (settings() with a new prefix).
  static RedisServer& shared();

  std::uint16_t port() const noexcept { return port_; }
  // The [store] settings that reach it, keys under "{prefix}:"; a new
  // prefix each call when `prefix` is empty.
  config::Redis settings(std::string prefix = {}) const;

  // Ends it (SIGKILL) and starts it again on the same port (empty, unless
  // `options` made it keep its data): an outage and its end.
  void stop();
  void start();

 private:
  TempFolder folder_;
  std::vector<std::string> options_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Process> process_;
};

}  // namespace verbd::test
