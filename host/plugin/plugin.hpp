// One loaded plugin instance: its library, its descriptor, the services
// table the host gave it, and the instance its factory made.
//
// Immutable once started, and shared by every thread: handle() may run on
// several threads at once. Destroying it destroys the instance first, then
// unmaps the library (members are destroyed in reverse order).
#pragma once

#include "config/config.hpp"
#include "store/store.hpp"

#include <verbd/plugin.h>

#include <boost/dll/shared_library.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace spdlog {
class logger;
}

namespace verbd::http {
class Response;
}

namespace verbd::plugin {

// Which version of a file was loaded: a `cp` over it changes size or mtime.
struct FileIdentity {
  std::uint64_t device = 0, inode = 0, size = 0;
  std::int64_t modified_ns = 0;
  bool operator==(const FileIdentity&) const = default;
};

// What `verbd_host.context` points at: the host as one plugin sees it.
struct Services {
  spdlog::logger* log = nullptr;  // named "plugin <name>"
  config::Settings settings;      // merged from [plugins.<method>] of each method it serves
  store::Store* store = nullptr;
};

class Plugin {
 public:
  Plugin(boost::dll::shared_library library, const verbd_plugin_descriptor& descriptor,
         std::filesystem::path file, FileIdentity identity, Services services);
  ~Plugin();
  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;

  // Calls the plugin's factory; false with `error` set when it fails.
  bool start(std::string& error);
  // VERBD_OK, or VERBD_PLUGIN_FAILED when the plugin reported a failure.
  std::int32_t handle(const verbd_request& request, http::Response& response) const;

  const std::string& name() const noexcept { return name_; }
  const std::string& version() const noexcept { return version_; }
  const std::filesystem::path& file() const noexcept { return file_; }
  const FileIdentity& identity() const noexcept { return identity_; }
  const std::vector<std::string>& methods() const noexcept { return methods_; }
  const config::Settings& settings() const noexcept { return services_.settings; }
  std::string abi() const;

 private:
  boost::dll::shared_library library_;
  const verbd_plugin_descriptor& descriptor_;
  std::filesystem::path file_;
  FileIdentity identity_;
  std::string name_;
  std::string version_;
  std::vector<std::string> methods_;
  Services services_;
  verbd_host host_{};
  void* instance_ = nullptr;
};

// The table of host services for one plugin; `services` must outlive it.
verbd_host make_host_table(Services& services);

}  // namespace verbd::plugin
