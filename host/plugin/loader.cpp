#include "plugin/loader.hpp"

#include "common/ascii.hpp"
#include "log/log.hpp"

#include <verbd/detail/rules.hpp>

#include <boost/dll/shared_library.hpp>

#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>

namespace verbd::plugin {
namespace {

namespace fs = std::filesystem;

bool has_elf_header(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  char magic[4] = {};
  in.read(magic, sizeof magic);
  return in && std::memcmp(magic,
                           "\x7f"
                           "ELF",
                           4) == 0;
}

// Boost.DLL keeps dlerror()'s text to itself; ask the loader again for it.
std::string loader_error(const fs::path& file) {
  void* handle = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle != nullptr) {
    ::dlclose(handle);
    return "it failed to load, then loaded: is it being written?";
  }
  const char* text = ::dlerror();
  return text != nullptr ? text : "unknown reason";
}

// The settings for a plugin: [plugins.<method>] of each method it serves.
config::Settings settings_for(const std::vector<std::string>& methods, const config::Plugins& plugins) {
  config::Settings merged;
  for (const auto& method : methods) {
    auto found = plugins.settings.find(ascii::lower(method));
    if (found != plugins.settings.end()) merged.insert(found->second.begin(), found->second.end());
  }
  return merged;
}

std::vector<std::string> methods_of(const verbd_plugin_descriptor& d) {
  std::vector<std::string> methods;
  for (const char* const* method = d.methods; *method != nullptr; ++method) methods.emplace_back(*method);
  return methods;
}

std::optional<FileIdentity> identify(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return std::nullopt;
  return FileIdentity{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
                      static_cast<std::uint64_t>(st.st_size),
                      st.st_mtim.tv_sec * 1000000000L + st.st_mtim.tv_nsec};
}

// "+echo.so ~get.so -patch.so": added, replaced, removed since `before`.
std::string describe_changes(const Generation* before, const Generation& now) {
  std::string changes;
  auto add = [&](char mark, const fs::path& file) {
    if (!changes.empty()) changes += ' ';
    changes += mark + file.filename().string();
  };
  for (const auto& plugin : now.plugins()) {
    auto previous = before ? before->from_file(plugin->file()) : nullptr;
    if (!previous)
      add('+', plugin->file());
    else if (previous != plugin)
      add('~', plugin->file());
  }
  if (before)
    for (const auto& plugin : before->plugins())
      if (!now.from_file(plugin->file())) add('-', plugin->file());
  return changes.empty() ? "none" : changes;
}

// A copy of `file` in a folder of its own, made for this one load: the
// folder and the copy go as soon as the library is mapped, so that nothing
// is left behind even by a verbd killed a moment later.
fs::path private_copy(const fs::path& file, std::string& refusal) {
  std::string folder = (fs::temp_directory_path() / "verbd-plugin-XXXXXX").string();
  if (::mkdtemp(folder.data()) == nullptr) {
    refusal = "cannot make a private folder to load it from in " + fs::temp_directory_path().string() + ": " +
              std::strerror(errno);
    return {};
  }
  fs::path copy = fs::path(folder) / file.filename();
  std::error_code error;
  fs::copy_file(file, copy, error);
  if (error) refusal = "cannot copy it to " + copy.string() + ": " + error.message();
  return copy;
}

void remove_private_copy(const fs::path& copy) {
  std::error_code ignored;
  fs::remove(copy, ignored);
  fs::remove(copy.parent_path(), ignored);
}

}  // namespace

bool runs_isolated(const fs::path& file, const config::Plugins& plugins) {
  return plugins.isolated.count(ascii::lower(file.stem().string())) != 0;
}

Loader::Loader(store::Store& store, const verbd_host& services, Isolate isolate, LoadWatch watch)
    : store_(store), services_(services), isolate_(std::move(isolate)), watch_(std::move(watch)) {}

void Loader::run_plugin_code(const PluginCode& plugin, const std::function<void()>& code) const {
  if (watch_.run)
    watch_.run(plugin, code);
  else
    code();
}

std::shared_ptr<const Plugin> Loader::load_here(const fs::path& file, const config::Plugins& plugins,
                                                std::string& refusal) {
  auto identity = identify(file);
  if (!identity) {
    refusal = "cannot read it";
    return nullptr;
  }
  Isolate none;
  std::swap(none, isolate_);
  auto plugin = load_file(file, *identity, plugins, refusal);
  std::swap(none, isolate_);
  return plugin;
}

LoadReport Loader::load(const config::Plugins& plugins, std::uint64_t number, const Generation* before) {
  static auto& log = verbd::log::get("plugins");
  generation_ = number;
  LoadReport report;
  std::vector<fs::path> files;
  std::error_code error;
  for (const auto& item : fs::directory_iterator(plugins.directory, error))
    if (item.path().extension() == ".so") files.push_back(item.path());
  if (error)
    report.refused.push_back({plugins.directory, "cannot read the plugin folder: " + error.message()});
  std::sort(files.begin(), files.end());

  std::vector<std::shared_ptr<const Plugin>> loaded;
  std::map<std::string, fs::path> owner;  // method -> file that serves it
  for (const auto& file : files) {
    std::string refusal;
    auto plugin = reuse_or_load(file, plugins, before, refusal);
    for (const auto& method : plugin ? plugin->methods() : std::vector<std::string>{}) {
      if (auto [at, fresh] = owner.emplace(method, file); !fresh) {
        refusal = "serves " + method + ", which " + at->second.string() +
                  " serves already: remove one of the two files";
        plugin.reset();
        break;
      }
    }
    if (plugin) loaded.push_back(std::move(plugin));
    if (!refusal.empty()) report.refused.push_back({file, refusal});
  }
  for (const auto& refused : report.refused) log.error("{}: {}", refused.file.string(), refused.reason);
  report.generation = std::make_shared<Generation>(number, std::move(loaded));
  report.changes = describe_changes(before, *report.generation);
  return report;
}

std::shared_ptr<const Plugin> Loader::reuse_or_load(const fs::path& file, const config::Plugins& plugins,
                                                    const Generation* before, std::string& refusal) {
  auto previous = before ? before->from_file(file) : nullptr;
  auto identity = identify(file);
  if (previous && identity && previous->identity() == *identity &&
      previous->settings() == settings_for(previous->methods(), plugins))
    return previous;
  auto plugin = identity ? load_file(file, *identity, plugins, refusal) : nullptr;
  if (!identity) refusal = "cannot read it";
  if (plugin || !previous) return plugin;
  refusal += "; the version loaded before stays in force";
  return previous;
}

std::shared_ptr<const Plugin> Loader::load_file(const fs::path& file, const FileIdentity& identity,
                                                const config::Plugins& plugins, std::string& refusal) {
  if (!has_elf_header(file)) {
    refusal = "not a shared library (no ELF header): remove it from the plugin folder";
    return nullptr;
  }
  if (isolate_ && runs_isolated(file, plugins)) {
    Description description;
    auto remote = isolate_(file, description, refusal);
    if (!remote) return nullptr;
    auto settings = settings_for(description.methods, plugins);
    return std::make_shared<Plugin>(std::move(description), Origin{file, identity}, std::move(settings),
                                    std::move(remote));
  }
  if (watch_.unloadable && watch_.unloadable(identity)) {
    refusal =
        "quarantined: it crashed or hung workers as they loaded it; replace the file, or send "
        "verbd SIGHUP to try it again";
    return nullptr;
  }
  fs::path copy = private_copy(file, refusal);
  if (!refusal.empty()) return remove_private_copy(copy), nullptr;
  boost::dll::fs::error_code error;
  boost::dll::shared_library library;
  run_plugin_code({file, identity, {}, {}, generation_}, [&] {
    library.load(copy, error, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  });
  if (error) refusal = "the dynamic loader refused it: " + loader_error(copy);
  remove_private_copy(copy);  // the mapping stays
  if (!refusal.empty()) return nullptr;

  if (!library.has(VERBD_DESCRIPTOR_SYMBOL)) {
    refusal = "exports no '" VERBD_DESCRIPTOR_SYMBOL
              "' descriptor: build it with VERBD_PLUGIN(...) from <verbd/plugin.hpp>";
    return nullptr;
  }
  const auto& descriptor = library.get<const verbd_plugin_descriptor>(VERBD_DESCRIPTOR_SYMBOL);
  refusal = detail::descriptor_problem(descriptor);
  if (!refusal.empty()) return nullptr;

  Context context;
  context.log = &verbd::log::get(std::string("plugin ") + descriptor.name);
  context.settings = settings_for(methods_of(descriptor), plugins);
  context.store = &store_;
  auto plugin = std::make_shared<Plugin>(std::move(library), descriptor, Origin{file, identity},
                                         std::move(context), services_);
  std::string failure;
  bool started = false;
  run_plugin_code({file, identity, descriptor.name, descriptor.version, generation_},
                  [&] { started = plugin->start(failure); });
  if (!started) {
    refusal = "its factory failed: " + failure;
    return nullptr;
  }
  return plugin;
}

void log_generation(const LoadReport& report, const IsQuarantined& is_quarantined) {
  static auto& log = verbd::log::get("plugins");
  const Generation& generation = *report.generation;
  log.info("generation {}: {} plugin(s), methods {}; changes: {}", generation.number(),
           generation.plugins().size(), generation.allow().empty() ? "(none)" : generation.allow(),
           report.changes);
  for (const auto& plugin : generation.plugins())
    for (const auto& method : plugin->methods())
      log.info("  {:<8} {:<36} {} {} (ABI {}){}", method, plugin->file().filename().string(), plugin->name(),
               plugin->version(), plugin->abi(),
               is_quarantined(*plugin)       ? " QUARANTINED: answers 503"
               : plugin->remote() != nullptr ? ", in a process of its own"
                                             : "");
}

}  // namespace verbd::plugin
