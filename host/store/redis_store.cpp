// The redis backend: resources in a Redis server, so that several verbd
// hosts serve one set of them. Every operation is one run of the script
// redis_store.lua, atomic in Redis; this file checks arguments, sends them
// and reads the answer. Nothing is cached: every read asks Redis, so a
// write through any host is seen by the next request to every host.
//
// Every key of a store starts with "{PREFIX}:": Redis Cluster puts all of
// them in the one hash slot of PREFIX, which lets one script touch any of
// them (a MOVE of a collection touches many).
#include "store/path.hpp"
#include "store/redis_client.hpp"
#include "store/store.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <ctime>
#include <string>
#include <vector>

namespace verbd::store {

extern const char redis_script[];  // redis_store.lua, compiled in (CMakeLists.txt)

namespace {

std::int64_t number_of(const redisReply* reply) {
  if (reply->type == REDIS_REPLY_INTEGER) return reply->integer;
  std::int64_t number = 0;
  for (char c : text_of(reply)) number = number * 10 + (c - '0');
  return number;
}

// A script's answer that is a number: a status.
bool is_status(const Reply& reply) { return reply->type == REDIS_REPLY_INTEGER; }

Status status_of(const Reply& reply) { return static_cast<Status>(reply->integer); }

// Whether Redis ran the script: not when it could not be reached, nor when
// it refused (out of memory, say).
bool answered(const Reply& reply) { return reply && !is_error(reply); }

// Redis at its maxmemory refuses writes, and any value over its
// proto-max-bulk-len: the store is full, 507.
Status failure(const Reply& reply) {
  if (!reply) return VERBD_IO_ERROR;
  std::string_view text = text_of(reply);
  bool full = text.starts_with("OOM") || text.find("maximum allowed size") != std::string_view::npos;
  return full ? VERBD_NO_SPACE : VERBD_IO_ERROR;
}

// The most bytes Redis takes in one value (its default proto-max-bulk-len).
constexpr std::uint64_t most_resource_bytes = 512 * 1024 * 1024;

class RedisStore final : public Store {
 public:
  explicit RedisStore(const config::Redis& settings)
      : client_(std::make_unique<RedisClient>(settings, redis_script)),
        prefix_("{" + settings.prefix + "}:"),
        tree_(prefix_ + "tree"),
        locks_(std::make_unique<SharedLocks>(*this)) {}

  Status stat(std::string_view path, Entry& entry) override { return look(path, nullptr, entry); }

  Status read(std::string_view path, std::string* bytes, Entry& entry) override {
    Status status = look(path, bytes, entry);
    return status == VERBD_OK && entry.kind == VERBD_ENTRY_COLLECTION ? VERBD_IS_COLLECTION : status;
  }

  Status write(const Write& write, Entry& entry, bool& created) override {
    entry = Entry{};
    if (!is_store_path(write.path)) return VERBD_BAD_ARGUMENT;
    if (names_collection(write.path)) return VERBD_IS_COLLECTION;
    if (!write.media_type.empty() && !is_storable_media_type(write.media_type)) return VERBD_BAD_ARGUMENT;
    std::uint64_t size = write.body_file != nullptr ? write.body_file->size : write.body.size();
    if (size > most_resource_bytes) return VERBD_NO_SPACE;
    std::string from_file;  // Redis takes a body whole, a spooled one too
    if (write.body_file != nullptr &&
        append_file_start(write.body_file->fd, write.body_file->size, from_file) != 0)
      return VERBD_IO_ERROR;
    std::string_view body = write.body_file != nullptr ? std::string_view(from_file) : write.body;
    std::string mode = std::to_string(static_cast<int>(write.mode));
    std::string now = now_text();
    Reply reply =
        run_change({"write", write.path, body, write.media_type, mode, now, guess_media_type(write.path)});
    if (!answered(reply)) return failure(reply);
    if (is_status(reply)) return status_of(reply);
    // {created, size, media type, modified, created time, ETag}
    created = number_of(reply->element[0]) == 1;
    fill_resource(reply->element + 1, entry);
    return VERBD_OK;
  }

  Status remove(std::string_view path) override {
    if (!is_store_path(path)) return VERBD_BAD_ARGUMENT;
    Reply reply = run_change({"remove", path});
    if (!answered(reply)) return failure(reply);
    if (status_of(reply) == VERBD_OK) locks_.forget(path);
    return status_of(reply);
  }

  Status list(std::string_view path, std::string& lines) override {
    if (!is_store_path(path)) return VERBD_BAD_ARGUMENT;
    Reply reply = run({"list", path});
    if (!answered(reply)) return failure(reply);
    if (is_status(reply)) return status_of(reply);
    std::vector<std::string_view> names;
    for (std::size_t i = 0; i < reply->elements; ++i) names.push_back(text_of(reply->element[i]));
    std::sort(names.begin(), names.end());
    for (auto name : names) lines.append(name).append("\n");
    return VERBD_OK;
  }

  Status make_collection(std::string_view path) override {
    if (!is_store_path(path) || !names_collection(path) || path == "/") return VERBD_BAD_ARGUMENT;
    Reply reply = run_change({"mkcol", path, now_text()});
    return answered(reply) ? status_of(reply) : failure(reply);
  }

  Status transfer(std::string_view from, std::string_view to, std::uint32_t flags, bool move,
                  bool& created) override {
    if (!is_store_path(from) || !is_store_path(to) || from == "/" || to == "/" ||
        names_collection(from) != names_collection(to) || detail::is_within(to, from) ||
        detail::is_within(from, to))
      return VERBD_BAD_ARGUMENT;
    Reply reply = run_change({"transfer", from, to, flag(flags & VERBD_TRANSFER_OVERWRITE),
                              flag(flags & VERBD_TRANSFER_SHALLOW), flag(move), now_text()});
    if (!answered(reply)) return failure(reply);
    if (reply->integer < 0) return status_of(reply);
    created = reply->integer == 1;
    if (move) locks_.forget(from);
    return VERBD_OK;
  }

  Status properties(std::string_view path, Properties& properties) override {
    if (!is_store_path(path)) return VERBD_BAD_ARGUMENT;
    Reply reply = run({"properties", path});
    if (!answered(reply)) return failure(reply);
    if (is_status(reply)) return status_of(reply);
    for (std::size_t i = 0; i + 1 < reply->elements; i += 2)
      properties[std::string(text_of(reply->element[i]))] = text_of(reply->element[i + 1]);
    return VERBD_OK;
  }

  Status change_properties(std::string_view path, std::span<const PropertyChange> changes) override {
    if (!is_store_path(path)) return VERBD_BAD_ARGUMENT;
    std::string most = std::to_string(detail::max_property_bytes);
    std::vector<std::string_view> arguments{"change_properties", path, most};
    for (const auto& change : changes) {
      if (!detail::is_property_name(change.name)) return VERBD_BAD_ARGUMENT;
      arguments.insert(arguments.end(), {flag(change.remove), change.name, change.value});
    }
    Reply reply = run_change(std::move(arguments));
    return answered(reply) ? status_of(reply) : failure(reply);
  }

  LockTable& locks() override { return locks_; }
  bool reads_may_wait() const noexcept override { return true; }

 private:
  // The lock table is the key "locks", changed only if unchanged since read.
  class SharedLocks final : public LockTable::Shared {
   public:
    explicit SharedLocks(RedisStore& store) : store_(store) {}
    std::optional<std::string> load() override {
      Reply reply = store_.run({"locks", ""});
      if (!answered(reply)) return std::nullopt;
      return std::string(text_of(reply));
    }
    std::optional<bool> swap(std::string_view expected, std::string_view text) override {
      Reply reply = store_.run({"swap_locks", expected, text}, Effect::writes);
      if (!answered(reply)) return std::nullopt;
      return reply->integer == 1;
    }

   private:
    RedisStore& store_;
  };

  using Effect = RedisClient::Effect;

  Reply run(std::vector<std::string_view> arguments, Effect effect = Effect::reads) {
    arguments.insert(arguments.begin() + 1, prefix_);
    return client_->run_script(tree_, arguments, effect);
  }

  // A change to the resources; inside LockTable::admit() it goes only if
  // the lock table is still the one checked (VERBD_LOCKED when not).
  Reply run_change(std::vector<std::string_view> arguments) {
    if (const std::string* checked = locks_.fence())
      arguments.insert(arguments.begin(), {"fenced", *checked});
    return run(std::move(arguments), Effect::writes);
  }

  Status look(std::string_view path, std::string* bytes, Entry& entry) {
    entry = Entry{};
    if (!is_store_path(path)) return VERBD_BAD_ARGUMENT;
    Reply reply = run({"look", path, bytes != nullptr ? "1" : "0"});
    if (!answered(reply)) return failure(reply);
    if (is_status(reply)) return status_of(reply);
    // {kind, size, media type, modified, created, ETag, bytes}
    if (number_of(reply->element[0]) == VERBD_ENTRY_COLLECTION) {
      entry.kind = VERBD_ENTRY_COLLECTION;
      entry.modified_unix = entry.created_unix = number_of(reply->element[3]);
      return VERBD_OK;
    }
    fill_resource(reply->element + 1, entry);
    if (bytes != nullptr) bytes->append(text_of(reply->element[6]));
    return VERBD_OK;
  }

  // From {size, media type, modified, created, ETag}.
  static void fill_resource(redisReply** fields, Entry& entry) {
    entry.kind = VERBD_ENTRY_RESOURCE;
    entry.size = static_cast<std::uint64_t>(number_of(fields[0]));
    copy_field(entry.media_type, text_of(fields[1]));
    entry.modified_unix = number_of(fields[2]);
    entry.created_unix = number_of(fields[3]);
    std::string etag = "\"r" + std::string(text_of(fields[4])) + "\"";
    copy_field(entry.etag, etag);
  }

  static std::string_view flag(bool on) { return on ? "1" : "0"; }
  static std::string now_text() { return std::to_string(std::time(nullptr)); }

  std::unique_ptr<RedisClient> client_;
  std::string prefix_;
  std::string tree_;
  LockTable locks_;
};

}  // namespace

std::unique_ptr<Store> make_redis_store(const config::Redis& settings) {
  return std::make_unique<RedisStore>(settings);
}

}  // namespace verbd::store
