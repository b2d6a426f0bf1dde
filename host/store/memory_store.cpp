// The memory backend: volatile, for tests and for trying verbd out. The
// store itself is the SDK's <verbd/memory_store.hpp>, which plugin authors
// also test against; this adapts it to the host's Store interface.
#include "store/store.hpp"

#include <verbd/memory_store.hpp>

namespace verbd::store {
namespace {

class MemoryBackend final : public Store {
 public:
  Status stat(std::string_view path, Entry& entry) override { return store_.stat(path, entry); }
  Status read(std::string_view path, std::string* bytes, Entry& entry) override {
    return store_.read(path, bytes, entry);
  }
  Status write(const Write& write, Entry& entry, bool& created) override {
    return store_.write(write.path, write.body, write.media_type, static_cast<verbd_write_mode>(write.mode),
                        entry, created);
  }
  Status remove(std::string_view path) override { return store_.remove(path); }
  Status list(std::string_view path, std::string& lines) override { return store_.list(path, lines); }

 private:
  verbd::MemoryStore store_;
};

}  // namespace

std::unique_ptr<Store> make_memory_store() { return std::make_unique<MemoryBackend>(); }

}  // namespace verbd::store
