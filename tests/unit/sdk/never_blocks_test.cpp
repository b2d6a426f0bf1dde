// The never-blocks flag, as a plugin author meets it: one member sets it in
// the descriptor, and the test host, as verbd, then refuses the plugin's
// store writes and removes (VERBD_WOULD_BLOCK), since it runs on the event
// loop. A plugin without the member may write.
#include <verbd/plugin.hpp>
#include <verbd/testing.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

// Writes the request's body at its path, or removes it for DELETE; says how it went.
template <bool NeverBlocks>
class Writer {
 public:
  static constexpr bool never_blocks = NeverBlocks;

  explicit Writer(verbd::Host& host) : store_(host.store()) {}

  void handle(const verbd::Request& request, verbd::Response& response) const {
    verbd::Status status;
    if (request.method() == "DELETE") {
      status = store_.remove(request.path());
    } else {
      verbd::Entry written;
      bool created = false;
      status = store_.write(request.path(), request.body(), "", verbd::WriteMode::replace, written, created);
    }
    response.status(200);
    response.append(status == verbd::Status::would_block ? "would block" : "done");
  }

 private:
  const verbd::Store& store_;
};

// No member at all: may block.
struct Plain {
  explicit Plain(verbd::Host&) {}
  void handle(const verbd::Request&, verbd::Response& response) const { response.status(204); }
};

const char* const methods[] = {"PUT", "DELETE", nullptr};
const verbd_plugin_descriptor inline_writer = verbd::detail::describe<Writer<true>>("w", "1", methods);
const verbd_plugin_descriptor pooled_writer = verbd::detail::describe<Writer<false>>("w", "1", methods);
const verbd_plugin_descriptor plain = verbd::detail::describe<Plain>("p", "1", methods);

TEST(NeverBlocks, OneMemberSetsTheFlag) {
  EXPECT_EQ(inline_writer.flags, VERBD_PLUGIN_NEVER_BLOCKS);
  EXPECT_EQ(pooled_writer.flags, 0u);
  EXPECT_EQ(plain.flags, 0u);
  EXPECT_EQ(inline_writer.abi_minor, VERBD_ABI_MINOR);
  EXPECT_EQ(inline_writer.struct_size, sizeof(verbd_plugin_descriptor));
}

TEST(NeverBlocks, APluginThatSaysSoMayNotWriteOrRemove) {
  verbd::testing::TestHost host(inline_writer);
  EXPECT_EQ(host.request("PUT", "/a", "bytes").body, "would block");
  EXPECT_EQ(host.request("DELETE", "/a").body, "would block");
  verbd_entry entry{};
  entry.struct_size = sizeof entry;
  EXPECT_EQ(host.store().stat("/a", entry), VERBD_NOT_FOUND);  // nothing was written
  ASSERT_EQ(host.log().size(), 2u);
  EXPECT_EQ(host.log()[0].rfind("error: store_write refused (VERBD_WOULD_BLOCK)", 0), 0u) << host.log()[0];
}

TEST(NeverBlocks, APluginThatMayBlockWrites) {
  verbd::testing::TestHost host(pooled_writer);
  EXPECT_EQ(host.request("PUT", "/a", "bytes").body, "done");
  EXPECT_EQ(host.request("DELETE", "/a").body, "done");
  EXPECT_TRUE(host.log().empty());
}

TEST(NeverBlocks, WouldBlockAnswers500) { EXPECT_EQ(verbd::http_status(verbd::Status::would_block), 500); }

}  // namespace
