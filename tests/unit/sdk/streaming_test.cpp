// A body sent as it is made, as a plugin author meets it in the test host:
// the pieces as sent, the client going away, a failure after the head, the
// refusal in a plugin that never blocks, HEAD, and a file the plugin made.
#include <verbd/plugin.hpp>
#include <verbd/testing.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <string>

namespace {

// Sends "row I\n" for I below the count in the path ("/3"), after an
// appended title; "/fail" throws after the head; "/file" makes a file.
template <bool NeverBlocks>
struct Rows {
  static constexpr bool never_blocks = NeverBlocks;
  explicit Rows(verbd::Host&) {}

  void handle(const verbd::Request& request, verbd::Response& response) const {
    response.header("Content-Type", "text/plain");
    if (request.path() == "/file") return file(response);
    response.append("rows:\n");
    int count = request.path() == "/fail" ? 1 : std::stoi(std::string(request.path().substr(1)));
    for (int i = 0; i < count; ++i)
      if (verbd::Status status = response.send("row " + std::to_string(i) + "\n");
          status != verbd::Status::ok)
        return response.header("X-Stopped", std::to_string(static_cast<int>(status)));
    if (request.path() == "/fail") throw std::runtime_error("failed after the head");
  }

  static void file(verbd::Response& response) {
    int fd = ::open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 || ::write(fd, "made", 4) != 4) throw std::runtime_error("no file");
    response.file(fd);
  }
};

}  // namespace

namespace {

// Two descriptors in one file: VERBD_PLUGIN exports one only.
const char* const streaming_methods[] = {"ROWS", "HEAD", nullptr};
const char* const inline_methods[] = {"ROWS", nullptr};
namespace streaming {
const verbd_plugin_descriptor verbd_plugin =
    verbd::detail::describe<Rows<false>>("rows", "1.0.0", streaming_methods);
}
namespace inline_rows {
const verbd_plugin_descriptor verbd_plugin =
    verbd::detail::describe<Rows<true>>("rows", "1.0.0", inline_methods);
}

TEST(Streaming, ThePiecesAreTheBodyAsSent) {
  verbd::testing::TestHost host(streaming::verbd_plugin);
  auto reply = host.request("ROWS", "/3");
  EXPECT_TRUE(reply.streamed);
  EXPECT_FALSE(reply.cut_short);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.pieces, (std::vector<std::string>{"rows:\n", "row 0\n", "row 1\n", "row 2\n"}));
  EXPECT_EQ(reply.body, "rows:\nrow 0\nrow 1\nrow 2\n");
}

TEST(Streaming, APluginLearnsThatTheClientHasGone) {
  verbd::testing::TestHost host(streaming::verbd_plugin);
  host.set_client_gone_after(2);
  auto reply = host.request("ROWS", "/100");
  EXPECT_EQ(reply.pieces.size(), 2u);
  // Its header after the head is a broken contract: the body is cut short.
  EXPECT_TRUE(reply.cut_short);
  EXPECT_EQ(reply.problem, "response_header after response_send had sent the head");
}

TEST(Streaming, AFailureAfterTheHeadCutsTheBodyShort) {
  verbd::testing::TestHost host(streaming::verbd_plugin);
  auto reply = host.request("ROWS", "/fail");
  EXPECT_TRUE(reply.failed);
  EXPECT_TRUE(reply.cut_short);
  EXPECT_EQ(reply.status, 200);  // the head had gone
  EXPECT_EQ(reply.body, "rows:\nrow 0\n");
}

TEST(Streaming, HeadGetsNoPieces) {
  verbd::testing::TestHost host(streaming::verbd_plugin);
  auto reply = host.request("HEAD", "/3");
  EXPECT_FALSE(reply.streamed);
  EXPECT_EQ(reply.body, "");
  EXPECT_EQ(reply.status, 200);
}

TEST(Streaming, APluginThatNeverBlocksMayNotSendPieces) {
  verbd::testing::TestHost host(inline_rows::verbd_plugin);
  auto reply = host.request("ROWS", "/1");
  EXPECT_FALSE(reply.streamed);
  EXPECT_EQ(reply.header("X-Stopped"), std::to_string(VERBD_WOULD_BLOCK));
  ASSERT_FALSE(host.log().empty());
  EXPECT_NE(host.log().back().find("response_send refused"), std::string::npos);
}

TEST(Streaming, AFileThePluginMadeIsTheBody) {
  verbd::testing::TestHost host(streaming::verbd_plugin);
  auto reply = host.request("ROWS", "/file");
  EXPECT_EQ(reply.body, "made");
  EXPECT_EQ(reply.content_length, 4u);
  EXPECT_EQ(host.request("HEAD", "/file").content_length, 4u);
}

}  // namespace
