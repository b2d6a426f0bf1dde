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
#include <utility>
#include <vector>

namespace verbd {

namespace detail {
struct StoredResource {
  std::string bytes;
  std::string media_type;
  std::int64_t modified_unix = 0;
  std::int64_t created_unix = 0;
  std::uint64_t version = 0;
};

inline bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

}  // namespace detail

class MemoryStore {
 public:
  MemoryStore() : epoch_(std::random_device{}()) { collections_.emplace("/", std::time(nullptr)); }

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
    next->created_unix = created ? next->modified_unix : existing->second->created_unix;
    next->version = ++versions_;
    resources_[key] = next;
    fill(*next, entry);
    return VERBD_OK;
  }

  verbd_status remove(std::string_view path) {
    if (!detail::is_clean_path(path)) return VERBD_BAD_ARGUMENT;
    std::lock_guard lock(mutex_);
    return erase(std::string(path)) ? VERBD_OK : VERBD_NOT_FOUND;
  }

  // A new, empty collection at `path` ("/a/b/"), whose parent exists.
  verbd_status make_collection(std::string_view path) {
    if (!detail::is_clean_path(path) || !detail::names_collection(path) || path == "/")
      return VERBD_BAD_ARGUMENT;
    std::lock_guard lock(mutex_);
    std::string key(path);
    if (collections_.count(key) || resources_.count(key.substr(0, key.size() - 1))) return VERBD_EXISTS;
    if (!collections_.count(std::string(detail::parent_of(path)))) return VERBD_NO_PARENT;
    collections_.emplace(key, std::time(nullptr));
    return VERBD_OK;
  }

  // Copies or moves `from` to `to` (VERBD_TRANSFER_* flags), properties too;
  // a move is atomic: no reader sees both or neither.
  verbd_status transfer(std::string_view from, std::string_view to, std::uint32_t flags, bool move,
                        bool& created) {
    if (!detail::is_clean_path(from) || !detail::is_clean_path(to) || from == "/" || to == "/" ||
        detail::names_collection(from) != detail::names_collection(to) || detail::is_within(to, from) ||
        detail::is_within(from, to))
      return VERBD_BAD_ARGUMENT;
    std::lock_guard lock(mutex_);
    std::string source(from), target(to);
    bool is_collection = detail::names_collection(from);
    if (is_collection ? !collections_.count(source) : !resources_.count(source)) return VERBD_NOT_FOUND;
    if (!collections_.count(std::string(detail::parent_of(to)))) return VERBD_NO_PARENT;
    std::string bare = is_collection ? target.substr(0, target.size() - 1) : target;
    created = !resources_.count(bare) && !collections_.count(bare + "/");
    if (!created && !(flags & VERBD_TRANSFER_OVERWRITE)) return VERBD_EXISTS;
    erase(bare);
    erase(bare + "/");
    collections_.emplace("/", std::time(nullptr));
    bool shallow = !move && (flags & VERBD_TRANSFER_SHALLOW);
    copy_tree(source, target, shallow, !move);
    if (move) erase(source);
    return VERBD_OK;
  }

  // The dead properties of `path`, by name.
  verbd_status properties(std::string_view path, std::map<std::string, std::string>& out) {
    verbd_entry entry{};
    std::shared_ptr<const detail::StoredResource> resource;
    if (verbd_status status = look_up(path, entry, resource); status != VERBD_OK) return status;
    std::lock_guard lock(mutex_);
    auto found = properties_.find(key_for(path, entry));
    if (found != properties_.end()) out = found->second;
    return VERBD_OK;
  }

  // Applies every change in order, or none.
  verbd_status change_properties(std::string_view path, const verbd_property_change* changes,
                                 std::size_t count) {
    verbd_entry entry{};
    std::shared_ptr<const detail::StoredResource> resource;
    if (verbd_status status = look_up(path, entry, resource); status != VERBD_OK) return status;
    std::lock_guard lock(mutex_);
    std::string key = key_for(path, entry);
    auto next = properties_[key];
    for (std::size_t i = 0; i < count; ++i) {
      std::string name(detail::view(changes[i].property.name));
      if (!detail::is_property_name(name)) return VERBD_BAD_ARGUMENT;
      if (changes[i].remove)
        next.erase(name);
      else
        next[name] = detail::view(changes[i].property.value);
    }
    std::size_t bytes = 0;
    for (const auto& [name, value] : next) bytes += name.size() + value.size();
    if (bytes > detail::max_property_bytes) return VERBD_NO_SPACE;
    if (next.empty())
      properties_.erase(key);
    else
      properties_[key] = std::move(next);
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
         it != collections_.end() && detail::starts_with(it->first, prefix); ++it)
      members.insert(member_name(it->first, prefix));
    for (const auto& member : members) lines.append(member).append("\n");
    return VERBD_OK;
  }

 private:
  // The key of what `entry` (just looked up at `path`) describes: a
  // collection named without its '/' is the collection.
  static std::string key_for(std::string_view path, const verbd_entry& entry) {
    std::string key(path);
    if (entry.kind == VERBD_ENTRY_COLLECTION && !detail::names_collection(key)) key += '/';
    return key;
  }

  // Removes the resource `key`, or the collection `key` with all below it;
  // false when nothing was there. Under the lock.
  bool erase(const std::string& key) {
    if (!detail::names_collection(key)) {
      properties_.erase(key);
      if (resources_.erase(key)) return true;
    }
    std::string prefix = detail::names_collection(key) ? key : key + "/";
    if (!collections_.count(prefix)) return false;
    erase_prefix(resources_, prefix);
    erase_prefix(collections_, prefix);
    erase_prefix(properties_, prefix);
    collections_.emplace("/", std::time(nullptr));
    return true;
  }

  // Copies `from` to `to` (both resources, or both collections with all
  // below, or the collection alone when `shallow`). `fresh`: the copies
  // are new versions (new ETags); a move keeps them. Under the lock.
  void copy_tree(const std::string& from, const std::string& to, bool shallow, bool fresh) {
    auto renamed = [&](const std::string& key) { return to + key.substr(from.size()); };
    auto in_scope = [&](const std::string& key) {
      return key == from || (!shallow && detail::starts_with(key, from) && detail::names_collection(from));
    };
    std::vector<std::pair<std::string, std::shared_ptr<const detail::StoredResource>>> resources;
    for (auto it = resources_.lower_bound(from); it != resources_.end() && in_scope(it->first); ++it) {
      auto copy = it->second;
      if (fresh) {
        auto next = std::make_shared<detail::StoredResource>(*it->second);
        next->version = ++versions_;
        next->created_unix = std::time(nullptr);  // a copy is a new resource
        copy = next;
      }
      resources.emplace_back(renamed(it->first), copy);
    }
    std::vector<std::pair<std::string, std::int64_t>> collections;
    for (auto it = collections_.lower_bound(from); it != collections_.end() && in_scope(it->first); ++it)
      collections.emplace_back(renamed(it->first), fresh ? std::time(nullptr) : it->second);
    std::vector<std::pair<std::string, std::map<std::string, std::string>>> properties;
    for (auto it = properties_.lower_bound(from); it != properties_.end() && in_scope(it->first); ++it)
      properties.emplace_back(renamed(it->first), it->second);
    for (auto& item : resources) resources_[item.first] = std::move(item.second);
    for (auto& item : collections) collections_[item.first] = item.second;
    for (auto& item : properties) properties_[item.first] = std::move(item.second);
  }

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
      if (!resource) {
        auto collection = collections_.find(key);
        if (collection == collections_.end()) return VERBD_NOT_FOUND;
        entry.kind = VERBD_ENTRY_COLLECTION;
        entry.modified_unix = entry.created_unix = collection->second;
      }
    }
    if (resource) fill(*resource, entry);
    return VERBD_OK;
  }

  // Creates every collection above `key`; fails where a resource is in the way.
  verbd_status make_parents(const std::string& key) {
    for (auto slash = key.find('/', 1); slash != std::string::npos; slash = key.find('/', slash + 1)) {
      if (resources_.count(key.substr(0, slash))) return VERBD_NOT_COLLECTION;
    }
    for (auto slash = key.find('/', 1); slash != std::string::npos; slash = key.find('/', slash + 1))
      collections_.emplace(key.substr(0, slash + 1), std::time(nullptr));
    return VERBD_OK;
  }

  template <class Container>
  static void erase_prefix(Container& container, const std::string& prefix) {
    auto first = container.lower_bound(prefix);
    auto last = first;
    while (last != container.end() && detail::starts_with(last->first, prefix)) ++last;
    container.erase(first, last);
  }

  // The epoch keeps ETags from one run of the process from matching another's.
  void fill(const detail::StoredResource& resource, verbd_entry& entry) const {
    entry.kind = VERBD_ENTRY_RESOURCE;
    entry.size = resource.bytes.size();
    entry.modified_unix = resource.modified_unix;
    entry.created_unix = resource.created_unix;
    char etag[VERBD_ETAG_CAPACITY];
    std::snprintf(etag, sizeof etag, "\"m%x-%llx\"", epoch_,
                  static_cast<unsigned long long>(resource.version));
    detail::copy_field(entry.etag, etag);
    detail::copy_field(entry.media_type, resource.media_type);
  }

  mutable std::mutex mutex_;  // a plain mutex: glibc's rwlock lets busy readers starve writers
  std::map<std::string, std::shared_ptr<const detail::StoredResource>> resources_;  // "/a/b"
  std::map<std::string, std::int64_t> collections_;  // "/", "/a/", each with when it was made
  std::map<std::string, std::map<std::string, std::string>> properties_;  // dead ones, by path, by name
  std::uint64_t versions_ = 0;
  unsigned epoch_;
};

}  // namespace verbd

#endif  // VERBD_MEMORY_STORE_HPP
