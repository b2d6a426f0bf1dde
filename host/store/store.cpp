#include "store/store.hpp"

namespace verbd::store {

std::unique_ptr<Store> make_store(const config::Store& config) {
  if (config.backend == "memory") return make_memory_store();
  return make_files_store({config.root, config.fsync});
}

}  // namespace verbd::store
