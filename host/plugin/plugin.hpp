// One loaded plugin instance: its library, its descriptor, the services
// table the host gave it, and the instance its factory made.
//
// Immutable once started, and shared by every thread: handle() may run on
// several threads at once. Destroying it destroys the instance first, then
// unmaps the library (members are destroyed in reverse order).
#pragma once

#include "common/file_identity.hpp"
#include "config/config.hpp"
#include "store/store.hpp"

#include <verbd/plugin.h>

#include <boost/dll/shared_library.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace spdlog {
class logger;
}

namespace verbd::plugin {

// Where a plugin was loaded from.
struct Origin {
  std::filesystem::path file;  // in the plugin folder
  FileIdentity identity;
};

// What `verbd_host.context` points at: the host as one plugin sees it. The
// functions of the table (dispatch/services.hpp) find everything here.
struct Context {
  spdlog::logger* log = nullptr;  // named "plugin <name>"
  config::Settings settings;      // merged from [plugins.<method>] of each method it serves
  store::Store* store = nullptr;
  // VERBD_PLUGIN_NEVER_BLOCKS: called on the event loop, so store writes
  // and removes are refused (VERBD_WOULD_BLOCK).
  bool never_blocks = false;
};

// What carries the calls of a plugin that runs in a process of its own
// (`isolation = "process"`); the dispatch layer knows its real type
// (dispatch/isolated.hpp). Nothing of that plugin is loaded here.
class Remote {
 public:
  virtual ~Remote() = default;
};

// How a plugin that runs elsewhere describes itself.
struct Description {
  std::string name, version, abi;
  std::vector<std::string> methods;
};

class Plugin {
 public:
  // `services` is the table of host functions; its context is set to this
  // plugin's own. `library` is empty for a descriptor compiled into the
  // host (tests).
  Plugin(boost::dll::shared_library library, const verbd_plugin_descriptor& descriptor, Origin origin,
         Context context, const verbd_host& services);
  // A plugin that runs in a process of its own, described by that process;
  // `remote()` carries its calls, and handle() must not be called.
  Plugin(Description description, Origin origin, config::Settings settings, std::unique_ptr<Remote> remote);
  ~Plugin();
  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;

  // Calls the plugin's factory; false with `error` set when it fails.
  bool start(std::string& error);
  // VERBD_OK, or VERBD_PLUGIN_FAILED when the plugin reported a failure.
  // `response` is whatever the services table's response functions expect.
  std::int32_t handle(const verbd_request& request, verbd_response* response) const {
    return descriptor_->handle(instance_, &request, response);
  }
  // Not null for a plugin that runs in a process of its own.
  Remote* remote() const noexcept { return remote_.get(); }
  // It declared VERBD_PLUGIN_NEVER_BLOCKS: it may be called on the event loop.
  bool never_blocks() const noexcept { return context_.never_blocks; }

  const std::string& name() const noexcept { return name_; }
  const std::string& version() const noexcept { return version_; }
  const std::filesystem::path& file() const noexcept { return origin_.file; }
  const FileIdentity& identity() const noexcept { return origin_.identity; }
  const std::vector<std::string>& methods() const noexcept { return methods_; }
  const config::Settings& settings() const noexcept { return context_.settings; }
  const std::string& abi() const noexcept { return abi_; }
  // Built for ABI 1.2 or later: it knows that a large body is not in
  // verbd_request.body (an older one is not called with such a body).
  bool reads_large_bodies() const noexcept { return abi_minor_ >= 2; }

 private:
  boost::dll::shared_library library_;
  const verbd_plugin_descriptor* descriptor_ = nullptr;  // null for a remote plugin
  std::unique_ptr<Remote> remote_;
  Origin origin_;
  std::string name_;
  std::string version_;
  std::string abi_;  // "major.minor"
  int abi_minor_ = 0;
  std::vector<std::string> methods_;
  Context context_;
  verbd_host host_{};
  void* instance_ = nullptr;
};

}  // namespace verbd::plugin
