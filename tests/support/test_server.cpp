#include "test_server.hpp"

#include "dispatch/dispatcher.hpp"
#include "dispatch/services.hpp"
#include "log/log.hpp"

namespace verbd::test {

config::Config test_config(const std::string& backend, const std::filesystem::path& data_root,
                           const std::filesystem::path& plugin_folder) {
  config::Config config;
  config.server.port = 0;
  config.plugins.directory = plugin_folder;
  config.plugins.watch = false;
  config.store.backend = backend;
  config.store.root = data_root;
  config.store.fsync = false;
  config.log.level = spdlog::level::warn;
  config.log.access = false;
  return config;
}

TestServer::TestServer(const config::Config& config) {
  verbd::log::setup(config.log);
  store_ = store::make_store(config.store);
  loader_ = std::make_unique<plugin::Loader>(*store_, dispatch::services_table());
  report_ = loader_->load(config.plugins, 1);
  registry_.publish(report_.generation);
  board_ = std::make_unique<board::Board>(config.server.workers, config.server.plugin_threads);
  server_ = std::make_unique<net::Server>(
      net::settings_from(config),
      dispatch::dispatchers(*store_, registry_, *board_, 0, {dispatch::pool_settings_from(config), {}}));
  server_->start();
}

TestServer::~TestServer() {
  server_->stop(std::chrono::milliseconds(1000));
  server_->wait();
}

}  // namespace verbd::test
