// Every decision of the dispatch layer, without sockets: 400 for a target
// that cannot be cleaned, 405 with Allow, the request a plugin sees, 500 for
// a plugin that throws or breaks the contract, error pages, HEAD, and the
// switch to a newly published generation.
#include "dispatch/dispatcher.hpp"
#include "plugin/let_go.hpp"

#include "store/store.hpp"

#include "../../support/inline_plugin.hpp"

#include <verbd/plugin.hpp>

#include <gtest/gtest.h>

#include <chrono>

#include <memory>
#include <string>

namespace verbd::dispatch {
namespace {

// Answers with what it was handed, one line each.
struct Recorder {
  explicit Recorder(verbd::Host&) {}
  void handle(const verbd::Request& request, verbd::Response& response) const {
    response.status(200);
    response.header("Content-Type", "text/plain");
    response.append(std::string(request.method()) + "|" + std::string(request.target()) + "|" +
                    std::string(request.path()) + "|" + std::string(request.query()) + "|" +
                    std::to_string(request.version()) + "|" + std::string(request.allow()) + "|" +
                    std::string(request.header("x-one").value_or("-")) + "|" + std::string(request.body()));
  }
};

// Does what its method says.
struct Misbehaves {
  explicit Misbehaves(verbd::Host&) {}
  void handle(const verbd::Request& request, verbd::Response& response) const {
    auto method = request.method();
    if (method == "THROW") throw std::runtime_error("boom");
    response.header("X-Before", "set before the fault");
    if (method == "BADSTATUS") response.status(99);
    if (method == "OWNED") response.header("Content-Length", "3");
    if (method == "CRLF") response.header("X-Split", "a\r\nInjected: yes");
    if (method == "EMPTY") response.status(404);
    if (method == "HEAD") response.append("four");
  }
};

const char* const recorder_methods[] = {"ECHO", nullptr};
const char* const misbehaving_methods[] = {"THROW", "BADSTATUS", "OWNED", "CRLF", "EMPTY", "HEAD", nullptr};
const verbd_plugin_descriptor recorder =
    verbd::detail::describe<Recorder>("recorder", "1.0.0", recorder_methods);
const verbd_plugin_descriptor misbehaving =
    verbd::detail::describe<Misbehaves>("misbehaving", "1.0.0", misbehaving_methods);

std::string wire(const http::Response& response) {
  std::string out;
  response.serialize(out, {"verbd", true, 11});
  return out;
}

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() {
    publish({test::load_inline(recorder, *store_), test::load_inline(misbehaving, *store_)});
  }

  void publish(std::vector<std::shared_ptr<const plugin::Plugin>> plugins) {
    registry_.publish(std::make_shared<plugin::Generation>(++generations_, std::move(plugins)));
  }

  http::Response answer(std::string_view method, std::string_view target, std::string body = {}) {
    request_.clear();
    request_.method = method;
    request_.target = target;
    request_.headers = {{"X-One", "1"}, {"Host", "h"}};
    request_.body = std::move(body);
    http::Response response;
    dispatcher_.answer(request_, response);
    return response;
  }

  std::unique_ptr<store::Store> store_ = store::make_memory_store();
  plugin::Registry registry_;
  std::uint64_t generations_ = 0;
  board::Board board_{1};
  Dispatcher dispatcher_{*store_, registry_, board_, board_.call(0)};
  http::Request request_;
};

TEST_F(DispatcherTest, HandsThePluginTheCleanedRequest) {
  auto response = answer("ECHO", "/a/./b/../c?x=1", "payload");
  EXPECT_EQ(response.status(), 200);
  EXPECT_TRUE(wire(response).ends_with(
      "\r\n\r\nECHO|/a/./b/../c?x=1|/a/c|x=1|11|BADSTATUS, CRLF, ECHO, EMPTY, HEAD, OWNED, THROW|1|payload"));
}

TEST_F(DispatcherTest, NotesEachCallOnTheBoardForTheSupervisor) {
  answer("ECHO", "/a/./b?x=1");
  const board::CallRecord& call = board_.call(0);
  EXPECT_EQ(call.in_plugin.load(), 0u);  // the call is over
  EXPECT_EQ(call.method.view(), "ECHO");
  EXPECT_EQ(call.target.view(), "/a/./b?x=1");
  EXPECT_EQ(call.generation, generations_);
  EXPECT_EQ(call.name.view(), "recorder");
}

TEST_F(DispatcherTest, AQuarantinedPluginIsNotCalledItsMethodsAnswer503) {
  auto plugin = registry_.current()->find("ECHO");
  ASSERT_TRUE(board_.quarantine().add(plugin->identity()));
  board_.quarantine_retry_after_s() = 42;
  auto response = answer("ECHO", "/x");
  std::string out = wire(response);
  EXPECT_EQ(response.status(), 503);
  EXPECT_NE(out.find("Retry-After: 42\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("is quarantined"), std::string::npos) << out;
  EXPECT_EQ(board_.call(0).method.view(), "");  // never called

  board_.quarantine().clear();  // SIGHUP
  EXPECT_EQ(answer("ECHO", "/x").status(), 200);
}

TEST_F(DispatcherTest, AMethodNoPluginServesIs405WithAllow) {
  auto response = answer("PATCH", "/x");
  std::string out = wire(response);
  EXPECT_EQ(response.status(), 405);
  EXPECT_NE(out.find("\r\nAllow: BADSTATUS, CRLF, ECHO, EMPTY, HEAD, OWNED, THROW\r\n"), std::string::npos)
      << out;
  EXPECT_TRUE(out.ends_with("405 Method Not Allowed: no plugin serves this method\n")) << out;
  http::Response early;
  EXPECT_TRUE(dispatcher_.refuses_before_body(request_, early));
  EXPECT_EQ(early.status(), 405);
  request_.method = "ECHO";
  EXPECT_FALSE(dispatcher_.refuses_before_body(request_, early));
}

TEST_F(DispatcherTest, ATargetThatCannotBeCleanedIs400BeforeAnyPlugin) {
  auto response = answer("ECHO", "/../etc/passwd");
  EXPECT_EQ(response.status(), 400);
  EXPECT_TRUE(wire(response).ends_with("400 Bad Request: path leads outside the root\n"));
  EXPECT_EQ(answer("ECHO", "/a%2Fb").status(), 400);
  EXPECT_EQ(answer("ECHO", "*").status(), 400);  // asterisk-form is for OPTIONS only
}

TEST_F(DispatcherTest, APluginThatThrowsGets500) {
  auto response = answer("THROW", "/");
  EXPECT_EQ(response.status(), 500);
  EXPECT_TRUE(wire(response).ends_with("\r\n\r\n500 Internal Server Error: the plugin failed\n"));
}

TEST_F(DispatcherTest, APluginThatBreaksTheContractGets500AndNothingItSet) {
  for (const char* method : {"BADSTATUS", "OWNED", "CRLF"}) {
    auto response = answer(method, "/");
    std::string out = wire(response);
    EXPECT_EQ(response.status(), 500) << method;
    EXPECT_EQ(out.find("X-Before"), std::string::npos) << method;
    EXPECT_EQ(out.find("Injected"), std::string::npos) << method;
    EXPECT_TRUE(out.ends_with("500 Internal Server Error: the plugin returned an invalid response\n")) << out;
  }
}

TEST_F(DispatcherTest, AnEmptyErrorGetsAnErrorPage) {
  auto response = answer("EMPTY", "/");
  std::string out = wire(response);
  EXPECT_EQ(response.status(), 404);
  EXPECT_NE(out.find("Content-Type: text/plain; charset=utf-8\r\n"), std::string::npos);
  EXPECT_TRUE(
      out.ends_with("X-Before: set before the fault\r\nContent-Type: text/plain; charset=utf-8\r\n"
                    "Content-Length: 14\r\n\r\n404 Not Found\n"))
      << out;
}

TEST_F(DispatcherTest, HeadKeepsTheLengthAndDropsTheBody) {
  auto response = answer("HEAD", "/");
  std::string out = wire(response);
  EXPECT_EQ(response.status(), 200);
  EXPECT_NE(out.find("Content-Length: 4\r\n"), std::string::npos);
  EXPECT_TRUE(out.ends_with("\r\n\r\n")) << out;
}

TEST_F(DispatcherTest, UsesANewGenerationAtOnceAndLetsTheOldOneGo) {
  EXPECT_EQ(answer("ECHO", "/").status(), 200);
  std::weak_ptr<const plugin::Generation> old = registry_.current();
  publish({test::load_inline(misbehaving, *store_)});
  EXPECT_FALSE(old.expired());  // the dispatcher holds it until it is used or released
  dispatcher_.release();
  EXPECT_TRUE(plugin::let_go_within(std::chrono::seconds(5)));  // torn down on a thread of its own
  EXPECT_TRUE(old.expired());
  EXPECT_EQ(answer("ECHO", "/").status(), 405);
  dispatcher_.release();  // the current generation is kept
  EXPECT_EQ(answer("THROW", "/").status(), 500);
}

}  // namespace
}  // namespace verbd::dispatch
