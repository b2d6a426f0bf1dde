// What tests of a store ask most often: the bytes at a path as text, and a
// write of text.
#pragma once

#include "store/store.hpp"

#include <string>
#include <string_view>

namespace verbd::test {

// The bytes at `path`, or "status N" when the store answers N; its media
// type into `media_type` when one is given.
inline std::string text_at(store::Store& store, std::string_view path, std::string* media_type = nullptr) {
  std::string bytes;
  store::Entry entry;
  store::Status status = store.read(path, &bytes, entry);
  if (media_type != nullptr) *media_type = entry.media_type;
  return status == VERBD_OK ? bytes : "status " + std::to_string(status);
}

// Writes `body` at `path`: a whole new version, or as `mode` says.
inline store::Status write_text(store::Store& store, std::string_view path, std::string_view body,
                                std::string_view media_type = {},
                                store::WriteMode mode = store::WriteMode::replace, bool* created = nullptr) {
  store::Entry entry;
  bool was_created = false;
  store::Status status = store.write({path, body, media_type, mode}, entry, was_created);
  if (created != nullptr) *created = was_created;
  return status;
}

}  // namespace verbd::test
