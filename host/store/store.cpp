#include "store/store.hpp"

namespace verbd::store {

std::unique_ptr<Store> make_store(const config::Store& config, bool clear_scratch) {
  if (config.backend == "memory") return make_memory_store();
  return make_files_store({config.root, config.fsync, clear_scratch, config.recheck});
}

}  // namespace verbd::store
