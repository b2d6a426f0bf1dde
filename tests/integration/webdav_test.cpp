// WebDAV through sockets, on both stores, for what litmus does not cover:
// locks binding the standard plugins, the If field on any method, MOVE's
// atomicity under readers, what survives a restart, and hostile XML.
// (tests/dav/litmus.sh runs litmus itself.)
#include "../support/http_client.hpp"
#include "../support/temp_folder.hpp"
#include "../support/test_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace verbd::test {
namespace {

constexpr std::string_view lock_body =
    "<?xml version=\"1.0\"?><D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/></D:lockscope>"
    "<D:locktype><D:write/></D:locktype><D:owner>tester</D:owner></D:lockinfo>";

class Webdav : public ::testing::TestWithParam<std::string> {
 protected:
  Webdav() { start(); }

  void start(std::int64_t max_members = 1000) {
    server_.reset();
    auto config = test_config(GetParam(), folder_ / "data", VERBD_DAV_PLUGIN_DIR);
    config.plugins.settings["propfind"]["max_members"] = max_members;
    server_ = std::make_unique<TestServer>(config);
  }

  Reply send(std::string_view method, std::string_view target, std::string_view body = {},
             const std::vector<std::string>& headers = {}) {
    return fetch(server_->port(), method, target, body, headers);
  }

  // Locks `target` and returns the token, without its angle brackets.
  std::string lock(std::string_view target, std::string depth = "0") {
    Reply reply = send("LOCK", target, lock_body, {"Depth: " + depth, "Timeout: Second-600"});
    EXPECT_TRUE(reply.status == 200 || reply.status == 201) << reply.status << " " << reply.body;
    std::string token(reply.header("Lock-Token"));
    return token.size() > 2 ? token.substr(1, token.size() - 2) : token;
  }

  // The authority the test client's Host field names.
  std::string base() const { return "http://127.0.0.1"; }

  TempFolder folder_;
  std::unique_ptr<TestServer> server_;
};

TEST_P(Webdav, OptionsSaysWhichClassesAreServed) {
  Reply reply = send("OPTIONS", "/");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("DAV"), "1, 2");
  EXPECT_NE(reply.header("Allow").find("PROPFIND"), std::string::npos);
}

TEST_P(Webdav, ALockBindsTheStandardPlugins) {
  ASSERT_EQ(send("PUT", "/locked", "v1").status, 201);
  ASSERT_EQ(send("PUT", "/dir/member", "m").status, 201);
  std::string token = lock("/locked");
  std::string on_dir = lock("/dir/", "infinity");
  ASSERT_FALSE(token.empty());

  Reply refused = send("PUT", "/locked", "v2");
  EXPECT_EQ(refused.status, 423);
  EXPECT_NE(refused.body.find("<D:lock-token-submitted><D:href>/locked</D:href>"), std::string::npos)
      << refused.body;
  EXPECT_EQ(send("POST", "/locked", "more").status, 423);
  EXPECT_EQ(send("DELETE", "/locked").status, 423);
  EXPECT_EQ(send("DELETE", "/dir/member").status, 423) << "Depth infinity covers the members";
  EXPECT_EQ(send("PUT", "/dir/new", "n").status, 423) << "and what is added below";
  EXPECT_EQ(send("MOVE", "/locked", {}, {"Destination: /elsewhere"}).status, 423);
  EXPECT_EQ(send("GET", "/locked").body, "v1");

  EXPECT_EQ(send("PUT", "/locked", "v2", {"If: (<" + token + ">)"}).status, 204);
  EXPECT_EQ(send("PUT", "/dir/new", "n", {"If: <" + base() + "/dir/> (<" + on_dir + ">)"}).status, 201)
      << "a list tagged with the lock's root";
  EXPECT_EQ(send("UNLOCK", "/locked", {}, {"Lock-Token: <" + token + ">"}).status, 204);
  EXPECT_EQ(send("DELETE", "/locked").status, 204);
}

// "Expect: 100-continue" asks whether the body is wanted: not when a lock
// refuses the request whatever it is, so the 423 comes before the body.
TEST_P(Webdav, ExpectContinueToALockedResourceIs423BeforeTheBody) {
  ASSERT_EQ(send("PUT", "/locked", "v1").status, 201);
  std::string token = lock("/locked");
  Client refused(server_->port());
  refused.send(
      "PUT /locked HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  Reply reply = refused.read_reply();
  EXPECT_EQ(reply.status, 423) << "not 100 (Continue)";
  EXPECT_NE(reply.body.find("<D:lock-token-submitted><D:href>/locked</D:href>"), std::string::npos)
      << reply.body;
  EXPECT_TRUE(refused.closed_by_server());

  Client holder(server_->port());
  holder.send("PUT /locked HTTP/1.1\r\nHost: 127.0.0.1\r\nIf: (<" + token +
              ">)\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  EXPECT_EQ(holder.read_reply().status, 100);
  holder.send("v2");
  EXPECT_EQ(holder.read_reply().status, 204);
  EXPECT_EQ(send("GET", "/locked").body, "v2");
}

TEST_P(Webdav, TheIfFieldIsEvaluatedForAnyMethod) {
  ASSERT_EQ(send("PUT", "/r", "bytes").status, 201);
  std::string etag(send("GET", "/r").header("ETag"));
  EXPECT_EQ(send("GET", "/r", {}, {"If: ([\"nonesuch\"])"}).status, 412);
  EXPECT_EQ(send("GET", "/r", {}, {"If: ([" + etag + "])"}).status, 200);
  EXPECT_EQ(send("GET", "/r", {}, {"If: (Not <DAV:no-lock>)"}).status, 200);
  EXPECT_EQ(send("GET", "/r", {}, {"If: (<DAV:no-lock>) ([" + etag + "])"}).status, 200)
      << "one list suffices";
  EXPECT_EQ(send("PUT", "/r", "x", {"If: (<DAV:no-lock>)"}).status, 412);
  EXPECT_EQ(send("GET", "/r", {}, {"If: (<unclosed"}).status, 400);
  EXPECT_EQ(send("GET", "/r").body, "bytes");
}

TEST_P(Webdav, ALockOnAnUnmappedPathMakesAnEmptyResource) {
  std::string token = lock("/fresh");
  Reply reply = send("GET", "/fresh");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "");
  Reply found = send("PROPFIND", "/fresh", {}, {"Depth: 0"});
  EXPECT_EQ(found.status, 207);
  EXPECT_NE(found.body.find(token), std::string::npos) << found.body;
  EXPECT_EQ(send("LOCK", "/fresh", lock_body, {"Depth: 0"}).status, 423) << "exclusive";
}

TEST_P(Webdav, DestinationIsCleanedAndMustBeThisServer) {
  ASSERT_EQ(send("PUT", "/a", "x").status, 201);
  EXPECT_EQ(send("COPY", "/a", {}, {"Destination: http://elsewhere.example/b"}).status, 502);
  EXPECT_EQ(send("COPY", "/a", {}, {"Destination: http://127.0.0.1:1/b"}).status, 502) << "another port";
  EXPECT_EQ(send("COPY", "/a", {}, {"Destination: /../../etc/passwd"}).status, 400);
  EXPECT_EQ(send("COPY", "/a", {}, {"Destination: " + base() + "/b%20c"}).status, 201);
  EXPECT_EQ(send("GET", "/b%20c").body, "x");
}

// The host checks a request's locks before it calls the plugin, and the
// store services check each change the plugin makes again: LATE, which
// writes a while after the host let it in, meets the lock taken meanwhile,
// and the host answers 423 for it (LATE itself would answer 500).
TEST_P(Webdav, ALockTakenWhileAPluginRunsBindsWhatItChangesAfter) {
  namespace fs = std::filesystem;
  fs::create_directories(folder_ / "plugins");
  for (std::string name : {"get", "put", "lock", "unlock"})
    fs::copy_file(fs::path(VERBD_DAV_PLUGIN_DIR) / (name + ".so"), folder_ / "plugins" / (name + ".so"));
  fs::copy_file(fs::path(VERBD_TEST_PLUGIN_DIR) / "late_writer.so", folder_ / "plugins/late_writer.so");
  server_.reset();
  server_ = std::make_unique<TestServer>(test_config(GetParam(), folder_ / "data", folder_ / "plugins"));
  ASSERT_EQ(send("PUT", "/r", "old").status, 201);

  auto late = std::async(std::launch::async, [&] { return send("LATE", "/r?ms=800", "late"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // LATE is past the host's check, waiting
  std::string token = lock("/r");
  Reply refused = late.get();
  EXPECT_EQ(refused.status, 423) << refused.body;
  EXPECT_NE(refused.body.find("<D:lock-token-submitted><D:href>/r</D:href>"), std::string::npos)
      << refused.body;
  EXPECT_EQ(send("GET", "/r").body, "old");

  EXPECT_EQ(send("LATE", "/r", "held", {"If: (<" + token + ">)"}).status, 204) << "the lock's holder may";
  EXPECT_EQ(send("GET", "/r").body, "held");
}

TEST_P(Webdav, HostileXmlIsRefusedQuickly) {
  std::string laughs =
      "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
      "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
      "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
      "<!ENTITY lol9 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">]>"
      "<D:propfind xmlns:D=\"DAV:\"><D:prop><D:x>&lol9;</D:x></D:prop></D:propfind>";
  std::string external =
      "<?xml version=\"1.0\"?><!DOCTYPE p [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
      "<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop><x xmlns=\"urn:x\">&e;</x></D:prop></D:set>"
      "</D:propertyupdate>";
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "<a>";
  ASSERT_EQ(send("PUT", "/r", "x").status, 201);
  Reply bomb = send("PROPFIND", "/r", laughs, {"Depth: 0"});
  EXPECT_EQ(bomb.status, 400);
  EXPECT_NE(bomb.body.find("document type declaration"), std::string::npos) << bomb.body;
  Reply entity = send("PROPPATCH", "/r", external);
  EXPECT_EQ(entity.status, 400);
  EXPECT_EQ(send("PROPFIND", "/r", deep, {"Depth: 0"}).status, 400);
  EXPECT_EQ(send("PROPFIND", "/r", "<D:propfind xmlns:D=\"DAV:\"><D:prop>", {"Depth: 0"}).status, 400);
  Reply props = send("PROPFIND", "/r", {}, {"Depth: 0"});
  EXPECT_EQ(props.body.find("root:"), std::string::npos) << "nothing of /etc/passwd was stored";
}

TEST_P(Webdav, DepthInfinityHasABound) {
  start(5);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(send("PUT", "/big/m" + std::to_string(i), "x").status, 201);
  EXPECT_EQ(send("PROPFIND", "/big/", {}, {"Depth: infinity"}).status, 207) << "as many members as allowed";
  ASSERT_EQ(send("PUT", "/big/m5", "x").status, 201);
  Reply refused = send("PROPFIND", "/big/", {}, {"Depth: infinity"});
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("propfind-finite-depth"), std::string::npos);
  Reply one = send("PROPFIND", "/big/", {}, {"Depth: 1"});
  EXPECT_EQ(one.status, 207);
  std::size_t responses = 0;
  for (auto at = one.body.find("<D:response>"); at != std::string::npos;
       at = one.body.find("<D:response>", at + 1))
    ++responses;
  EXPECT_EQ(responses, 7u);
}

// A body over body_in_memory_bytes reaches the plugin in a file: read too.
TEST_P(Webdav, ALargeXmlBodyIsReadFromItsSpoolFile) {
  ASSERT_EQ(send("PUT", "/r", "x").status, 201);
  std::string padding(100 * 1024, ' ');
  Reply patched = send("PROPPATCH", "/r",
                       "<D:propertyupdate xmlns:D=\"DAV:\">" + padding +
                           "<D:set><D:prop><n xmlns=\"urn:n\">v</n></D:prop></D:set></D:propertyupdate>");
  EXPECT_EQ(patched.status, 207) << patched.body;
  EXPECT_NE(send("PROPFIND", "/r", {}, {"Depth: 0"}).body.find("<n xmlns=\"urn:n\">v</n>"),
            std::string::npos);
}

// A reader that finds a moved resource missing at its old path finds it at
// its new one: the move is one rename, never a copy and a delete.
TEST_P(Webdav, AMovedResourceIsAlwaysAtOnePathOrTheOther) {
  constexpr int count = 150;
  for (int i = 0; i < count; ++i)
    ASSERT_EQ(send("PUT", "/from/r" + std::to_string(i), "body " + std::to_string(i)).status, 201);
  ASSERT_EQ(send("MKCOL", "/to/").status, 201);
  std::atomic<bool> done{false};
  std::atomic<int> neither{0}, checked{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t)
    readers.emplace_back([&, t] {
      for (int i = t; !done; i = (i + 7) % count) {
        std::string name = "/r" + std::to_string(i);
        if (fetch(server_->port(), "GET", "/from" + name).status == 200) continue;
        Reply moved = fetch(server_->port(), "GET", "/to" + name);
        if (moved.status != 200 || moved.body != "body " + std::to_string(i)) ++neither;
        ++checked;
      }
    });
  for (int i = 0; i < count; ++i) {
    std::string name = "/r" + std::to_string(i);
    ASSERT_EQ(send("MOVE", "/from" + name, {}, {"Destination: /to" + name}).status, 201);
  }
  done = true;
  for (auto& reader : readers) reader.join();
  EXPECT_EQ(neither, 0) << "of " << checked << " reads after the old path was gone";
  EXPECT_GT(checked, 0);
}

INSTANTIATE_TEST_SUITE_P(Stores, Webdav, ::testing::Values("files", "memory"));

class WebdavFiles : public Webdav {};

TEST_P(WebdavFiles, PropertiesAndLocksOutliveARestart) {
  ASSERT_EQ(send("PUT", "/kept", "x").status, 201);
  Reply patched = send("PROPPATCH", "/kept",
                       "<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop><c:colour xmlns:c=\"urn:c\">"
                       "<c:shade>blue</c:shade></c:colour></D:prop></D:set></D:propertyupdate>");
  ASSERT_EQ(patched.status, 207);
  std::string token = lock("/kept");
  start();
  Reply found = send("PROPFIND", "/kept", {}, {"Depth: 0"});
  EXPECT_NE(found.body.find("<colour xmlns=\"urn:c\"><shade xmlns=\"urn:c\">blue</shade></colour>"),
            std::string::npos)
      << found.body;
  EXPECT_NE(found.body.find(token), std::string::npos);
  EXPECT_EQ(send("PUT", "/kept", "y").status, 423);
}

INSTANTIATE_TEST_SUITE_P(Store, WebdavFiles, ::testing::Values("files"));

}  // namespace
}  // namespace verbd::test
