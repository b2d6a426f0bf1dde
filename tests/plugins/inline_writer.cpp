// INLINE declares that it never blocks, then writes to the store (or, for
// /remove, removes from it): the host must refuse that with
// VERBD_WOULD_BLOCK, since the plugin runs on the event loop.
#include <verbd/plugin.hpp>

#include <string>

namespace {

struct InlineWriter {
  static constexpr bool never_blocks = true;

  explicit InlineWriter(verbd::Host& host) : store_(host.store()) {}

  void handle(const verbd::Request& request, verbd::Response& response) const {
    verbd::Status status;
    if (request.path() == "/remove") {
      status = store_.remove("/written");
    } else {
      verbd::Entry written;
      bool created = false;
      status = store_.write("/written", "bytes", "", verbd::WriteMode::replace, written, created);
    }
    response.status(status == verbd::Status::would_block ? 200 : 500);
    response.append(status == verbd::Status::would_block ? "refused" : "written");
  }

 private:
  const verbd::Store& store_;
};

}  // namespace

VERBD_PLUGIN(InlineWriter, "inline", "1.0.0", "INLINE");
