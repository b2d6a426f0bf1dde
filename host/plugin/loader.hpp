// Loads every plugin file of the plugin folder into a new generation.
//
// Each file is checked before any of its code runs (ELF header, exported
// descriptor, magic, ABI, size, methods), then its factory is called. A file
// that fails any step is refused with one reason, in the words a user needs
// to fix it; the others load and serve.
//
// Libraries are loaded from private copies (made, dlopen'ed, then deleted),
// so that replacing a file in the folder really brings new code and a `cp`
// over a loaded file cannot corrupt the running one.
#pragma once

#include "config/config.hpp"
#include "plugin/generation.hpp"
#include "store/store.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace verbd::plugin {

struct Refusal {
  std::filesystem::path file;
  std::string reason;
};

struct LoadReport {
  std::shared_ptr<const Generation> generation;
  std::vector<Refusal> refused;
};

class Loader {
 public:
  explicit Loader(store::Store& store);  // throws std::runtime_error without a private folder
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Loads the folder as generation `number`. Refusals are logged and reported.
  LoadReport load(const config::Plugins& plugins, std::uint64_t number);

 private:
  std::shared_ptr<const Plugin> load_file(const std::filesystem::path& file, const config::Plugins& plugins,
                                          std::string& refusal);
  std::filesystem::path private_copy(const std::filesystem::path& file, std::string& refusal);

  store::Store& store_;
  std::filesystem::path private_folder_;
  std::uint64_t copies_ = 0;
};

// Logs the generation's plugins as a table: method, file, plugin, version, ABI.
void log_generation(const Generation& generation);

}  // namespace verbd::plugin
