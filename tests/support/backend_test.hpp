// A fixture for suites that run once per store backend: GetParam() names
// the backend ("files", "memory" or "redis"); store_ is a fresh one in a
// temp folder, or under keys of its own in the test program's Redis.
#pragma once

#include "redis_server.hpp"
#include "store/store.hpp"
#include "temp_folder.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace verbd::test {

class BackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    config::Store config;
    config.backend = GetParam();
    config.root = folder_.path() / "root";
    config.fsync = false;
    if (GetParam() == "redis") config.redis = RedisServer::shared().settings();
    store_ = store::make_store(config);
  }

  TempFolder folder_;
  std::unique_ptr<store::Store> store_;
};

}  // namespace verbd::test
