#include "plugin/loader.hpp"

#include "log/log.hpp"

#include <verbd/http.hpp>

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

// The descriptor's fields, checked in the order the ABI promises they exist.
std::string check_descriptor(const verbd_plugin_descriptor& d) {
  char hex[16];
  if (d.magic != VERBD_PLUGIN_MAGIC) {
    std::snprintf(hex, sizeof hex, "0x%08x", d.magic);
    return std::string("its descriptor has magic ") + hex +
           ", not 0x56524244: it is not a verbd plugin, or it is damaged";
  }
  if (d.abi_major != VERBD_ABI_MAJOR)
    return "built for SDK ABI " + std::to_string(d.abi_major) + ", this host speaks ABI " +
           std::to_string(VERBD_ABI_MAJOR) + ": rebuild it against this SDK";
  if (d.abi_minor > VERBD_ABI_MINOR)
    return "built for SDK ABI " + std::to_string(d.abi_major) + "." + std::to_string(d.abi_minor) +
           ", newer than this host's " + std::to_string(VERBD_ABI_MAJOR) + "." +
           std::to_string(VERBD_ABI_MINOR) + ": upgrade verbd, or rebuild it against this SDK";
  if (d.struct_size < sizeof(verbd_plugin_descriptor))
    return "its descriptor is " + std::to_string(d.struct_size) + " bytes, ABI 1 needs " +
           std::to_string(sizeof(verbd_plugin_descriptor)) + ": rebuild it against this SDK";
  if (d.name == nullptr || *d.name == '\0' || d.version == nullptr)
    return "its descriptor has no name or version";
  if (d.create == nullptr || d.destroy == nullptr || d.handle == nullptr)
    return "its descriptor lacks create, destroy or handle";
  if (d.methods == nullptr || d.methods[0] == nullptr) return "it serves no method";
  for (const char* const* method = d.methods; *method != nullptr; ++method)
    if (!verbd::is_token(*method))
      return std::string("it serves '") + (*method ? *method : "") + "', which is not a method token";
  return {};
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// The settings for a plugin: [plugins.<method>] of each method it serves.
config::Settings settings_for(const std::vector<std::string>& methods, const config::Plugins& plugins) {
  config::Settings merged;
  for (const auto& method : methods) {
    auto found = plugins.settings.find(lower(method));
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

}  // namespace

Loader::Loader(store::Store& store) : store_(store) {
  std::string pattern = (fs::temp_directory_path() / "verbd-plugins-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error("cannot make a private plugin folder in " + fs::temp_directory_path().string() +
                             ": " + std::strerror(errno));
  private_folder_ = pattern;
}

Loader::~Loader() {
  std::error_code ignored;
  fs::remove_all(private_folder_, ignored);
}

LoadReport Loader::load(const config::Plugins& plugins, std::uint64_t number, const Generation* before) {
  static auto& log = verbd::log::get("plugins");
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

fs::path Loader::private_copy(const fs::path& file, std::string& refusal) {
  fs::path copy = private_folder_ / (std::to_string(++copies_) + "-" + file.filename().string());
  std::error_code error;
  fs::copy_file(file, copy, fs::copy_options::overwrite_existing, error);
  if (error) refusal = "cannot copy it to " + copy.string() + ": " + error.message();
  return copy;
}

std::shared_ptr<const Plugin> Loader::load_file(const fs::path& file, const FileIdentity& identity,
                                                const config::Plugins& plugins, std::string& refusal) {
  if (!has_elf_header(file)) {
    refusal = "not a shared library (no ELF header): remove it from the plugin folder";
    return nullptr;
  }
  fs::path copy = private_copy(file, refusal);
  if (!refusal.empty()) return nullptr;
  boost::dll::fs::error_code error;
  boost::dll::shared_library library(copy, error,
                                     boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  if (error) refusal = "the dynamic loader refused it: " + loader_error(copy);
  std::error_code ignored;
  fs::remove(copy, ignored);  // the mapping stays; nothing is left to clean up
  if (!refusal.empty()) return nullptr;

  if (!library.has(VERBD_DESCRIPTOR_SYMBOL)) {
    refusal = "exports no '" VERBD_DESCRIPTOR_SYMBOL
              "' descriptor: build it with VERBD_PLUGIN(...) from <verbd/plugin.hpp>";
    return nullptr;
  }
  const auto& descriptor = library.get<const verbd_plugin_descriptor>(VERBD_DESCRIPTOR_SYMBOL);
  refusal = check_descriptor(descriptor);
  if (!refusal.empty()) return nullptr;

  Services services;
  services.log = &verbd::log::get(std::string("plugin ") + descriptor.name);
  services.settings = settings_for(methods_of(descriptor), plugins);
  services.store = &store_;
  auto plugin = std::make_shared<Plugin>(std::move(library), descriptor, file, identity, std::move(services));
  std::string failure;
  if (!plugin->start(failure)) {
    refusal = "its factory failed: " + failure;
    return nullptr;
  }
  return plugin;
}

void log_generation(const LoadReport& report) {
  static auto& log = verbd::log::get("plugins");
  const Generation& generation = *report.generation;
  log.info("generation {}: {} plugin(s), methods {}; changes: {}", generation.number(),
           generation.plugins().size(), generation.allow().empty() ? "(none)" : generation.allow(),
           report.changes);
  for (const auto& plugin : generation.plugins())
    for (const auto& method : plugin->methods())
      log.info("  {:<8} {:<36} {} {} (ABI {})", method, plugin->file().filename().string(), plugin->name(),
               plugin->version(), plugin->abi());
}

}  // namespace verbd::plugin
