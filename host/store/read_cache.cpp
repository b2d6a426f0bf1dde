#include "store/read_cache.hpp"

#include "common/coarse_clock.hpp"

#include <fcntl.h>

namespace verbd::store {

ReadCache::Identity ReadCache::identity_of(const struct stat& st) noexcept {
  auto ns = [](const timespec& t) { return std::int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec; };
  return {st.st_dev, st.st_ino, st.st_size, ns(st.st_mtim), ns(st.st_ctim)};
}

bool ReadCache::may_skip_look(const Kept& kept, const Check& now) const noexcept {
  return kept.checked && kept.checked->writes == now.writes && now.when - kept.checked->when < recheck_;
}

void ReadCache::serve(const Kept& kept, std::string& bytes, Entry& entry) {
  bytes.append(kept.bytes);
  entry = kept.entry;
}

bool ReadCache::find(int root, std::string_view relative_path, std::string& bytes, Entry& entry) {
  if (relative_path.empty() || relative_path.size() > max_path_bytes) return false;
  // Counted before the look at the file: a write that ends after the look
  // makes the next read look again.
  Check now{writes_.now(), coarse_now()};
  {
    std::lock_guard lock(mutex_);
    auto it = kept_.find(relative_path);
    if (it == kept_.end()) return false;
    if (may_skip_look(it->second, now)) {
      serve(it->second, bytes, entry);
      return true;
    }
  }
  char name[max_path_bytes + 1];  // fstatat wants a terminated string
  relative_path.copy(name, relative_path.size());
  name[relative_path.size()] = '\0';
  struct stat st {};
  if (::fstatat(root, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
  std::lock_guard lock(mutex_);
  auto it = kept_.find(relative_path);
  if (it == kept_.end() || it->second.identity != identity_of(st)) return false;
  it->second.checked = now;
  serve(it->second, bytes, entry);
  return true;
}

void ReadCache::keep(std::string_view relative_path, const struct stat& st, std::string_view bytes,
                     const Entry& entry) {
  if (relative_path.size() > max_path_bytes || bytes.size() > max_resource_bytes ||
      bytes.size() != static_cast<std::size_t>(st.st_size))
    return;
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  auto age = std::chrono::seconds(now.tv_sec - st.st_ctim.tv_sec) +
             std::chrono::nanoseconds(now.tv_nsec - st.st_ctim.tv_nsec);
  if (age < settle) return;
  std::lock_guard lock(mutex_);
  while (!kept_.empty() && total_bytes_ + bytes.size() > max_total_bytes) {
    total_bytes_ -= kept_.begin()->second.bytes.size();  // any one will do
    kept_.erase(kept_.begin());
  }
  auto [it, added] = kept_.try_emplace(std::string(relative_path));
  if (!added) total_bytes_ -= it->second.bytes.size();
  it->second = {identity_of(st), std::string(bytes), entry, std::nullopt};
  total_bytes_ += bytes.size();
}

}  // namespace verbd::store
