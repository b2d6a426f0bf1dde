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
    config_.backend = GetParam();
    config_.root = folder_.path() / "root";
    config_.fsync = false;
    if (GetParam() == "redis") config_.redis = RedisServer::shared().settings();
    store_ = store::make_store(config_);
  }

  TempFolder folder_;
  config::Store config_;  // another store made from it shares store_'s resources, but for "memory"

  std::unique_ptr<store::Store> store_;
};

}  // namespace verbd::test
