// The rules for store paths: those of every store, from
// <verbd/detail/store_rules.hpp> (the SDK's memory store applies them too),
// and one of the host's own: a first segment of ".verbd-tmp" is reserved, in
// every backend, for the files backend's scratch folder, so that both
// backends refuse the same paths.
#pragma once

#include <verbd/detail/store_rules.hpp>

#include <string_view>

namespace verbd::store {

using detail::copy_field;
using detail::guess_media_type;
using detail::is_storable_media_type;
using detail::names_collection;
using detail::relative;

inline constexpr std::string_view reserved_folder = ".verbd-tmp";

// A clean path (see verbd_request.path) that does not lead into the reserved folder.
inline bool is_store_path(std::string_view path) noexcept {
  if (!detail::is_clean_path(path)) return false;
  std::string_view first = path.substr(1, reserved_folder.size());  // after the leading '/'
  return first != reserved_folder || (path.size() > 1 + first.size() && path[1 + first.size()] != '/');
}

}  // namespace verbd::store
