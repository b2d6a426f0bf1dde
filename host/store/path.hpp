// The store's path and media-type rules live in the SDK, shared with the
// memory store plugin authors test against; the backends use them as
// verbd::store::is_clean_path and so on.
#pragma once

#include <verbd/paths.hpp>

namespace verbd::store {

using verbd::copy_field;
using verbd::guess_media_type;
using verbd::is_clean_path;
using verbd::is_storable_media_type;
using verbd::names_collection;
using verbd::relative;
using verbd::scratch_folder;

}  // namespace verbd::store
