// Bodies larger than [limits] body_in_memory_bytes: spooled to a file as
// they arrive (Content-Length or chunked) and moved into the store whole;
// refused with 413 as soon as they are known to be too large; an upload cut
// short, stalled or out of space leaves the old version and no file behind;
// a plugin that cannot take such a body gets its client a 413, not an empty
// body. The limits are small here (1 KiB in memory, 1 MiB at most) so that
// the same paths as a gigabyte's are taken in milliseconds.
#include "../support/http_client.hpp"
#include "../support/plugin_folder.hpp"
#include "../support/process.hpp"
#include "../support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace verbd::test {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t max_body_bytes = 1024 * 1024;

// Bytes that differ from position to position, so that a piece out of place shows.
std::string pattern(std::size_t size, char salt = 'a') {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>(salt + (i * 7 + i / 251) % 26);
  return bytes;
}

std::string head(const std::string& method, const std::string& target, std::size_t length,
                 const std::string& extra = "") {
  return method + " " + target + " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(length) +
         "\r\n" + extra + "\r\n";
}

std::string chunked(const std::string& body, std::size_t piece) {
  std::string bytes;
  for (std::size_t at = 0; at < body.size(); at += piece) {
    auto part = body.substr(at, piece);
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", part.size());
    bytes.append(size).append(part).append("\r\n");
  }
  return bytes + "0\r\n\r\n";
}

class LargeBodies : public ::testing::Test {
 protected:
  void start(const std::string& limits_keys = "", Limits process_limits = {},
             const std::string& plugins_keys = "") {
    stock(folder_, {"good", "older_minor"}, {"get", "head", "put", "post"});
    folder_.write("verbd.toml",
                  "[server]\nport = 0\nworkers = 1\n[limits]\nbody_in_memory_bytes = 1024\n"
                  "max_body_bytes = " +
                      std::to_string(max_body_bytes_) + "\n" + limits_keys +
                      "[plugins]\ndirectory = \"plugins\"\n" + plugins_keys +
                      "[store]\nroot = \"data\"\nfsync = false\n[log]\naccess = false\n");
    verbd_ = std::make_unique<Process>(
        folder_, VERBD_BINARY, std::vector<std::string>{"--config", (folder_ / "verbd.toml").string()},
        std::string(), process_limits);
    port_ = verbd_->port();
    ASSERT_NE(port_, 0) << verbd_->err();
  }

  // The scratch folder is empty once no upload is in progress: waits for
  // the server to have noticed an upload's end (up to 5 s).
  bool scratch_empties() {
    for (auto deadline = std::chrono::steady_clock::now() + 5s; std::chrono::steady_clock::now() < deadline;
         std::this_thread::sleep_for(10ms))
      if (scratch_leftovers(folder_ / "data").empty()) return true;
    return false;
  }

  TempFolder folder_;
  std::uint64_t max_body_bytes_ = max_body_bytes;
  std::unique_ptr<Process> verbd_;
  std::uint16_t port_ = 0;
};

TEST_F(LargeBodies, APutWithContentLengthIsStoredWhole) {
  start();
  std::string body = pattern(300 * 1024);
  Reply put = fetch(port_, "PUT", "/big.bin", body);
  ASSERT_EQ(put.status, 201) << put.body;
  EXPECT_EQ(folder_.read("data/big.bin"), body);
  Reply get = fetch(port_, "GET", "/big.bin");
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, body);
  EXPECT_EQ(get.header("ETag"), put.header("ETag"));
  EXPECT_TRUE(scratch_empties());
}

// A plugin in a process of its own gets the spool file passed along.
TEST_F(LargeBodies, AnIsolatedPluginGetsTheSpooledBody) {
  start("", {}, "[plugins.put]\nisolation = \"process\"\n");
  std::string body = pattern(300 * 1024, 'i');
  ASSERT_EQ(fetch(port_, "PUT", "/isolated.bin", body).status, 201);
  EXPECT_EQ(fetch(port_, "GET", "/isolated.bin").body, body);
  EXPECT_TRUE(scratch_empties());
}

TEST_F(LargeBodies, AChunkedPutIsSpooledAndStoredWhole) {
  start();
  std::string body = pattern(300 * 1024 + 17, 'A');
  Client client(port_);
  client.send("PUT /chunked.bin HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
  client.send(chunked(body, 4000));
  Reply put = client.read_reply();
  ASSERT_EQ(put.status, 201) << put.body;
  EXPECT_EQ(client.request("GET", "/chunked.bin").body, body);
  EXPECT_TRUE(scratch_empties());
}

TEST_F(LargeBodies, ABodyJustOverTheMemoryLimitAndOneJustUnderAreBothWhole) {
  start();
  for (std::size_t size : {1023u, 1024u, 1025u, 4096u}) {
    std::string body = pattern(size, 'k');
    ASSERT_EQ(fetch(port_, "PUT", "/edge", body).status, size == 1023u ? 201 : 204);
    EXPECT_EQ(fetch(port_, "GET", "/edge").body, body) << size << " bytes";
  }
}

TEST_F(LargeBodies, PostAppendsALargeBodyToALargeResource) {
  start();
  std::string first = pattern(200 * 1024, 'a'), second = pattern(250 * 1024, 'n');
  ASSERT_EQ(fetch(port_, "POST", "/log", first).status, 201);
  ASSERT_EQ(fetch(port_, "POST", "/log", second).status, 200);
  EXPECT_EQ(fetch(port_, "GET", "/log").body, first + second);
  // A member with a server-chosen name, from a large body.
  ASSERT_EQ(fetch(port_, "PUT", "/folder/seed", "x").status, 201);
  Reply member = fetch(port_, "POST", "/folder/", second);
  ASSERT_EQ(member.status, 201);
  EXPECT_EQ(fetch(port_, "GET", member.header("Location")).body, second);
  EXPECT_TRUE(scratch_empties());
}

TEST_F(LargeBodies, AContentLengthOverTheLimitIsRefusedBeforeTheBodyIsSent) {
  start();
  Client client(port_);
  client.send(head("PUT", "/too-big", max_body_bytes + 1));
  Reply reply = client.read_reply();  // nothing of the body was sent
  EXPECT_EQ(reply.status, 413);
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_EQ(fetch(port_, "GET", "/too-big").status, 404);
}

TEST_F(LargeBodies, AChunkedBodyIsRefusedAsItCrossesTheLimit) {
  start();
  Client client(port_);
  client.send("PUT /too-big HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
  std::string piece = chunked(pattern(64 * 1024), 64 * 1024);
  piece.resize(piece.size() - 5);  // one chunk, without the last-chunk
  for (std::size_t sent = 0; sent <= max_body_bytes; sent += 64 * 1024) client.send(piece);
  Reply reply = client.read_reply();  // no last-chunk was sent: the refusal came on its own
  EXPECT_EQ(reply.status, 413);
  EXPECT_EQ(fetch(port_, "GET", "/too-big").status, 404);
  EXPECT_TRUE(scratch_empties());
}

TEST_F(LargeBodies, ExpectContinueIsAnsweredOnlyForAnUploadThatWillBeTaken) {
  start();
  {  // PUT takes large bodies: 100 Continue, then the final status
    Client client(port_);
    client.send(head("PUT", "/expected", 5000, "Expect: 100-continue\r\n"));
    EXPECT_EQ(client.read_reply().status, 100);
    client.send(pattern(5000));
    EXPECT_EQ(client.read_reply().status, 201);
  }
  {  // a plugin built for ABI 1.0 takes bodies held in memory only: 413 at once
    Client client(port_);
    client.send(head("BROKEN", "/x", 5000, "Expect: 100-continue\r\n"));
    Reply reply = client.read_reply();
    EXPECT_EQ(reply.status, 413);
    EXPECT_NE(reply.body.find("rebuild it against SDK 1.2"), std::string::npos) << reply.body;
  }
  {  // ... and a small body for it is welcome
    Client client(port_);
    client.send(head("BROKEN", "/x", 10, "Expect: 100-continue\r\n"));
    EXPECT_EQ(client.read_reply().status, 100);
    client.send("0123456789");
    EXPECT_EQ(client.read_reply().status, 200);
  }
}

TEST_F(LargeBodies, APluginThatCannotTakeALargeBodyGetsItsClientA413) {
  start();
  // Chunked, so that nothing is known before the body is in: the older
  // plugin is not called with an empty body in place of 4 KiB.
  Client client(port_);
  client.send("BROKEN /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
              chunked(pattern(4096), 1000));
  EXPECT_EQ(client.read_reply().status, 413);
  // A 1.2 plugin that asks for the whole body in memory (request.body()).
  Reply echo = client.request("ECHO", "/x", pattern(4096));
  EXPECT_EQ(echo.status, 413);
  EXPECT_NE(echo.body.find("body_in_memory_bytes"), std::string::npos) << echo.body;
  // The connection goes on.
  EXPECT_EQ(client.request("ECHO", "/x", "small").status, 200);
}

// The files without a name that any process has open in `folder` (from
// /proc/*/fd): such a file shows as "FOLDER/#INODE (deleted)".
// Each once, however many descriptors of it are open (the spool writer has one of its own).
std::vector<std::string> unnamed_files_open_in(const std::filesystem::path& folder) {
  std::set<std::string> open;
  std::error_code error;
  for (const auto& process : std::filesystem::directory_iterator("/proc", error))
    for (const auto& fd : std::filesystem::directory_iterator(process.path() / "fd", error)) {
      auto target = std::filesystem::read_symlink(fd.path(), error).string();
      if (!error && target.rfind(folder.string() + "/#", 0) == 0) open.insert(target);
    }
  return {open.begin(), open.end()};
}

// The body of an upload in progress is in the store's scratch folder, in a
// file without a name: where a PUT can rename it into place, and gone with
// the upload if that never completes.
TEST_F(LargeBodies, AnUploadInProgressIsAnUnnamedFileInTheScratchFolder) {
  start();
  Client client(port_);
  std::string body = pattern(200 * 1024);
  client.send(head("PUT", "/spooled", body.size()) + body.substr(0, 100 * 1024));
  std::vector<std::string> open;
  for (int i = 0; i < 500 && open.empty(); ++i, std::this_thread::sleep_for(10ms))
    open = unnamed_files_open_in(folder_ / "data/.verbd-tmp");
  ASSERT_EQ(open.size(), 1u);
  EXPECT_NE(open[0].find("(deleted)"), std::string::npos) << open[0];
  EXPECT_TRUE(scratch_leftovers(folder_ / "data").empty());
  client.send(body.substr(100 * 1024));
  EXPECT_EQ(client.read_reply().status, 201);
  EXPECT_EQ(folder_.read("data/spooled"), body);
}

TEST_F(LargeBodies, AnUploadCutShortLeavesTheOldVersionAndNoFile) {
  start();
  std::string old_version = pattern(2000, 'o');
  ASSERT_EQ(fetch(port_, "PUT", "/kept", old_version).status, 201);
  std::string body = pattern(500 * 1024, 'N');
  for (int percent : {10, 50, 99}) {
    {
      Client client(port_);
      client.send(head("PUT", "/kept", body.size()) + body.substr(0, body.size() * percent / 100));
      std::this_thread::sleep_for(50ms);  // the server has taken what was sent
    }                                     // the client goes away mid-body
    EXPECT_TRUE(scratch_empties()) << percent << "%";
    EXPECT_EQ(fetch(port_, "GET", "/kept").body, old_version) << percent << "%";
  }
}

TEST_F(LargeBodies, AStalledUploadTimesOutAndLeavesTheOldVersion) {
  start("idle_timeout_ms = 300\n");
  ASSERT_EQ(fetch(port_, "PUT", "/kept", "old").status, 201);
  Client client(port_);
  client.send(head("PUT", "/kept", 100 * 1024) + pattern(50 * 1024));
  Reply reply = client.read_reply();  // after the idle timeout
  EXPECT_EQ(reply.status, 408);
  EXPECT_EQ(fetch(port_, "GET", "/kept").body, "old");
  EXPECT_TRUE(scratch_empties());
}

TEST_F(LargeBodies, NoSpaceForTheBodyIs507AndKeepsTheOldVersion) {
  // A file size limit on verbd (RLIMIT_FSIZE): writing past it fails as a
  // full disk does, with EFBIG. Large enough for verbd's private copies of
  // its plugins (those of a sanitizer build too), small for the body.
  max_body_bytes_ = 8 * 1024 * 1024;
  start("", {.max_file_bytes = 4 * 1024 * 1024});
  ASSERT_EQ(fetch(port_, "PUT", "/kept", "old").status, 201) << verbd_->err();
  Reply reply = fetch(port_, "PUT", "/kept", pattern(6 * 1024 * 1024));
  EXPECT_EQ(reply.status, 507);
  EXPECT_EQ(fetch(port_, "GET", "/kept").body, "old");
  EXPECT_TRUE(scratch_empties());
}

}  // namespace
}  // namespace verbd::test
