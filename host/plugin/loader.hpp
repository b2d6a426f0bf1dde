// Loads every plugin file of the plugin folder into a new generation.
//
// Each file is checked before any of its code runs (ELF header, exported
// descriptor, magic, ABI, size, methods), then its factory is called. A file
// that fails any step is refused with one reason, in the words a user needs
// to fix it; the others load and serve.
//
// Libraries are loaded from private copies (made in a folder of their own,
// dlopen'ed, then deleted with the folder), so that replacing a file in the
// folder really brings new code and a `cp` over a loaded file cannot corrupt
// the running one.
#pragma once

#include "config/config.hpp"
#include "plugin/generation.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace verbd::plugin {

struct Refusal {
  std::filesystem::path file;
  std::string reason;
};

struct LoadReport {
  std::shared_ptr<const Generation> generation;
  std::vector<Refusal> refused;
  std::string changes;  // against the generation before: "+echo.so ~get.so -patch.so", or "none"
};

// Starts the plugin in `file` in a process of its own and fills in how it
// describes itself; null with `refusal` set when it cannot.
using Isolate = std::function<std::unique_ptr<Remote>(const std::filesystem::path& file,
                                                      Description& description, std::string& refusal)>;

// Plugin code that loading runs: the library's initialisers (dlopen), then
// the plugin's factory.
struct PluginCode {
  const std::filesystem::path& file;
  const FileIdentity& identity;
  std::string_view name, version;  // empty until its descriptor is read
  std::uint64_t generation;
};

// How a worker watches that code; either may be empty.
struct LoadWatch {
  // Runs `code`, marked as the plugin's, so that the supervisor names the
  // plugin if the process dies in it, or stops it if it hangs there.
  std::function<void(const PluginCode& plugin, const std::function<void()>& code)> run;
  // Whether the supervisor has quarantined the file for crashing or hanging
  // workers as they loaded it: it is refused without running any of it.
  std::function<bool(const FileIdentity&)> unloadable;
};

// Whether the plugin in `file` runs in a process of its own: `isolation =
// "process"` in the [plugins.<method>] table named by the file (get.so: [plugins.get]).
bool runs_isolated(const std::filesystem::path& file, const config::Plugins& plugins);

class Loader {
 public:
  // `services`: the host's functions for plugins (dispatch/services.hpp),
  // given to each with its own context. `isolate` starts the plugins that
  // run in a process of their own; without it every plugin is loaded here.
  // `watch`: see LoadWatch.
  Loader(store::Store& store, const verbd_host& services, Isolate isolate = {}, LoadWatch watch = {});

  // Loads the folder as generation `number`. A file unchanged since
  // `before` keeps its loaded plugin (same instance); a file that fails to
  // load keeps the version `before` had, if any, so a bad copy never takes a
  // method away. Refusals are logged and reported.
  LoadReport load(const config::Plugins& plugins, std::uint64_t number, const Generation* before = nullptr);

  // Loads the one plugin in `file`, here, whatever its isolation setting:
  // what the process of an isolated plugin does. Null with `refusal` set
  // when it cannot.
  std::shared_ptr<const Plugin> load_here(const std::filesystem::path& file, const config::Plugins& plugins,
                                          std::string& refusal);

 private:
  std::shared_ptr<const Plugin> reuse_or_load(const std::filesystem::path& file,
                                              const config::Plugins& plugins, const Generation* before,
                                              std::string& refusal);
  std::shared_ptr<const Plugin> load_file(const std::filesystem::path& file, const FileIdentity& identity,
                                          const config::Plugins& plugins, std::string& refusal);
  void run_plugin_code(const PluginCode& plugin, const std::function<void()>& code) const;

  store::Store& store_;
  verbd_host services_;
  Isolate isolate_;
  LoadWatch watch_;
  std::uint64_t generation_ = 0;  // the one being loaded
};

// Whether the supervisor has quarantined a plugin (its methods answer 503).
using IsQuarantined = std::function<bool(const Plugin&)>;

// Logs the generation, what changed, and its plugins as a table: method,
// file, plugin, version, ABI, and "quarantined" where it is.
void log_generation(const LoadReport& report, const IsQuarantined& is_quarantined);

}  // namespace verbd::plugin
