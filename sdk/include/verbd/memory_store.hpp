// A resource store in memory, with the same rules as verbd's stores:
// verbd's "memory" backend is this class, and so is the store of the test
// host in <verbd/testing.hpp>. Header-only.
//
// Thread-safe. Resources are immutable once stored (a write makes a new
// one), so a reader copies bytes, outside the lock, out of a version no
// writer touches; one mutex guards the maps, held for look-ups and short
// updates only.
#ifndef VERBD_MEMORY_STORE_HPP
#define VERBD_MEMORY_STORE_HPP

#include <verbd/plugin.h>
#include <verbd/detail/store_rules.hpp>

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <string_view>

namespace verbd {

namespace detail {
struct StoredResource {
  std::string bytes;
  std::string media_type;
  std::int64_t modified_unix = 0;
  std::uint64_t version = 0;
};

inline bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

}  // namespace detail

class MemoryStore {
 public:
  MemoryStore() : epoch_(std::random_device{}()) { collections_.insert("/"); }

  verbd_status stat(std::string_view path, verbd_entry& entry) {
    std::shared_ptr<const detail::StoredResource> resource;
    return look_up(path, entry, resource);
  }

  verbd_status read(std::string_view path, std::string* bytes, verbd_entry& entry) {
    std::shared_ptr<const detail::StoredResource> resource;
    verbd_status status = look_up(path, entry, resource);
    if (status != VERBD_OK) return status;
    if (!resource) return VERBD_IS_COLLECTION;
    if (bytes != nullptr) bytes->append(resource->bytes);  // outside the lock: the version is immutable
    return VERBD_OK;
  }

  verbd_status write(std::string_view path, std::string_view body, std::string_view media_type,
                     verbd_write_mode mode, verbd_entry& entry, bool& created) {
    if (!detail::is_clean_path(path)) return VERBD_BAD_ARGUMENT;
    if (detail::names_collection(path)) return VERBD_IS_COLLECTION;
    if (!media_type.empty() && !detail::is_storable_media_type(media_type)) return VERBD_BAD_ARGUMENT;
    std::lock_guard lock(mutex_);
    std::string key(path);
    if (collections_.count(key + "/")) return VERBD_IS_COLLECTION;
    if (verbd_status status = make_parents(key); status != VERBD_OK) return status;
    auto existing = resources_.find(key);
    created = existing == resources_.end();
    if (!created && mode == VERBD_WRITE_CREATE) return VERBD_EXISTS;
    auto next = std::make_shared<detail::StoredResource>();
    if (!created && mode == VERBD_WRITE_APPEND) next->bytes = existing->second->bytes;
    next->bytes.append(body);
    next->media_type = !media_type.empty() ? std::string(media_type)
                       : !created          ? existing->second->media_type
                                           : std::string(detail::guess_media_type(key));
    next->modified_unix = std::time(nullptr);
    next->version = ++versions_;
    resources_[key] = next;
    fill(*next, entry);
    return VERBD_OK;
  }

  verbd_status remove(std::string_view path) {
    if (!detail::is_clean_path(path)) return VERBD_BAD_ARGUMENT;
    std::lock_guard lock(mutex_);
    std::string key(path);
    if (!detail::names_collection(path) && resources_.erase(key)) return VERBD_OK;
    std::string prefix = detail::names_collection(path) ? key : key + "/";
    if (!collections_.count(prefix)) return VERBD_NOT_FOUND;
    erase_prefix(resources_, prefix);
    erase_prefix(collections_, prefix);
    collections_.insert("/");
    return VERBD_OK;
  }

  verbd_status list(std::string_view path, std::string& lines) {
    if (!detail::is_clean_path(path)) return VERBD_BAD_ARGUMENT;
    std::lock_guard lock(mutex_);
    std::string prefix(path);
    if (!detail::names_collection(prefix)) prefix += '/';
    if (!collections_.count(prefix)) return VERBD_NOT_FOUND;
    std::set<std::string> members;
    for (auto it = resources_.lower_bound(prefix);
         it != resources_.end() && detail::starts_with(it->first, prefix); ++it)
      members.insert(member_name(it->first, prefix));
    for (auto it = collections_.upper_bound(prefix);
         it != collections_.end() && detail::starts_with(*it, prefix); ++it)
      members.insert(member_name(*it, prefix));
    for (const auto& member : members) lines.append(member).append("\n");
    return VERBD_OK;
  }

 private:
  // The first segment below `prefix`, with '/' kept when more follows.
  static std::string member_name(const std::string& key, const std::string& prefix) {
    auto rest = std::string_view(key).substr(prefix.size());
    auto slash = rest.find('/');
    return std::string(slash == std::string_view::npos ? rest : rest.substr(0, slash + 1));
  }

  // Finds what is at `path` under the lock, for as short as a map look-up;
  // `resource` is set for a resource and stays valid after the lock.
  verbd_status look_up(std::string_view path, verbd_entry& entry,
                       std::shared_ptr<const detail::StoredResource>& resource) const {
    entry = verbd_entry{};
    if (!detail::is_clean_path(path)) return VERBD_BAD_ARGUMENT;
    std::string key(path);
    {
      std::lock_guard lock(mutex_);
      if (!detail::names_collection(path)) {
        if (auto it = resources_.find(key); it != resources_.end()) resource = it->second;
        key += '/';
      }
      if (!resource && !collections_.count(key)) return VERBD_NOT_FOUND;
    }
    if (resource) {
      fill(*resource, entry);
    } else {
      entry.kind = VERBD_ENTRY_COLLECTION;
    }
    return VERBD_OK;
  }

  // Creates every collection above `key`; fails where a resource is in the way.
  verbd_status make_parents(const std::string& key) {
    for (auto slash = key.find('/', 1); slash != std::string::npos; slash = key.find('/', slash + 1)) {
      if (resources_.count(key.substr(0, slash))) return VERBD_NOT_COLLECTION;
    }
    for (auto slash = key.find('/', 1); slash != std::string::npos; slash = key.find('/', slash + 1))
      collections_.insert(key.substr(0, slash + 1));
    return VERBD_OK;
  }

  template <class Container>
  static void erase_prefix(Container& container, const std::string& prefix) {
    auto first = container.lower_bound(prefix);
    auto last = first;
    while (last != container.end() && detail::starts_with(key_of(*last), prefix)) ++last;
    container.erase(first, last);
  }
  static const std::string& key_of(const std::string& key) { return key; }
  template <class Value>
  static const std::string& key_of(const std::pair<const std::string, Value>& item) {
    return item.first;
  }

  // The epoch keeps ETags from one run of the process from matching another's.
  void fill(const detail::StoredResource& resource, verbd_entry& entry) const {
    entry.kind = VERBD_ENTRY_RESOURCE;
    entry.size = resource.bytes.size();
    entry.modified_unix = resource.modified_unix;
    char etag[VERBD_ETAG_CAPACITY];
    std::snprintf(etag, sizeof etag, "\"m%x-%llx\"", epoch_,
                  static_cast<unsigned long long>(resource.version));
    detail::copy_field(entry.etag, etag);
    detail::copy_field(entry.media_type, resource.media_type);
  }

  mutable std::mutex mutex_;  // a plain mutex: glibc's rwlock lets busy readers starve writers
  std::map<std::string, std::shared_ptr<const detail::StoredResource>> resources_;  // "/a/b"
  std::set<std::string> collections_;                                               // "/", "/a/"
  std::uint64_t versions_ = 0;
  unsigned epoch_;
};

}  // namespace verbd

#endif  // VERBD_MEMORY_STORE_HPP
