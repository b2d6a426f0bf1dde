// The memory backend: volatile, for tests and for trying verbd out. The
// store itself is the SDK's <verbd/memory_store.hpp>, which plugin authors
// also test against; this adapts it to the host's Store interface and adds
// the host's reserved-folder rule (store/path.hpp).
#include "store/path.hpp"
#include "store/store.hpp"

#include <verbd/memory_store.hpp>

namespace verbd::store {
namespace {

class MemoryBackend final : public Store {
 public:
  Status stat(std::string_view path, Entry& entry) override {
    entry = Entry{};
    return is_store_path(path) ? store_.stat(path, entry) : VERBD_BAD_ARGUMENT;
  }
  Status read(std::string_view path, std::string* bytes, Entry& entry) override {
    entry = Entry{};
    return is_store_path(path) ? store_.read(path, bytes, entry) : VERBD_BAD_ARGUMENT;
  }
  Status write(const Write& write, Entry& entry, bool& created) override {
    entry = Entry{};
    if (!is_store_path(write.path)) return VERBD_BAD_ARGUMENT;
    std::string from_file;  // this store keeps every body in memory, a spooled one too
    if (write.body_file != nullptr &&
        append_file_start(write.body_file->fd, write.body_file->size, from_file) != 0)
      return VERBD_IO_ERROR;
    std::string_view body = write.body_file != nullptr ? std::string_view(from_file) : write.body;
    return store_.write(write.path, body, write.media_type, static_cast<verbd_write_mode>(write.mode), entry,
                        created);
  }
  Status remove(std::string_view path) override {
    if (!is_store_path(path)) return VERBD_BAD_ARGUMENT;
    Status status = store_.remove(path);
    if (status == VERBD_OK) locks_.forget(path);
    return status;
  }
  Status list(std::string_view path, std::string& lines) override {
    return is_store_path(path) ? store_.list(path, lines) : VERBD_BAD_ARGUMENT;
  }
  Status make_collection(std::string_view path) override {
    return is_store_path(path) ? store_.make_collection(path) : VERBD_BAD_ARGUMENT;
  }
  Status transfer(std::string_view from, std::string_view to, std::uint32_t flags, bool move,
                  bool& created) override {
    if (!is_store_path(from) || !is_store_path(to)) return VERBD_BAD_ARGUMENT;
    Status status = store_.transfer(from, to, flags, move, created);
    if (status == VERBD_OK && move) locks_.forget(from);
    return status;
  }
  Status properties(std::string_view path, Properties& properties) override {
    return is_store_path(path) ? store_.properties(path, properties) : VERBD_BAD_ARGUMENT;
  }
  Status change_properties(std::string_view path, std::span<const PropertyChange> changes) override {
    if (!is_store_path(path)) return VERBD_BAD_ARGUMENT;
    std::vector<verbd_property_change> raw;
    for (const auto& change : changes)
      raw.push_back({{detail::str(change.name), detail::str(change.value)}, change.remove ? 1 : 0});
    return store_.change_properties(path, raw.data(), raw.size());
  }
  LockTable& locks() override { return locks_; }

 private:
  verbd::MemoryStore store_;
  LockTable locks_;
};

}  // namespace

std::unique_ptr<Store> make_memory_store() { return std::make_unique<MemoryBackend>(); }

}  // namespace verbd::store
