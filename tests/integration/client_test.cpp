// The verb client, run as a program: against verbd for its three modes, and
// against a canned server for every response framing.
#include "../support/canned_server.hpp"
#include "../support/process.hpp"
#include "../support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <regex>

namespace verbd::test {
namespace {

class ClientTest : public ::testing::Test {
 protected:
  ClientTest() {
    folder_.write("verbd.toml", "[server]\nport = 0\n[plugins]\ndirectory = \"" +
                                    std::string(VERBD_PLUGIN_DIR) +
                                    "\"\nwatch = false\n[store]\nroot = \"data\"\nfsync = false\n"
                                    "[log]\naccess_format = \"verbd\"\n");  // with the client's port
    folder_.write("data/index.html", "HTTP GET Method (Success)\n");
  }

  // Starts verbd and returns its base URL.
  std::string start_verbd() {
    verbd_ = std::make_unique<Process>(
        folder_, VERBD_BINARY, std::vector<std::string>{"--config", (folder_ / "verbd.toml").string()});
    std::uint16_t port = verbd_->port();
    EXPECT_NE(port, 0) << verbd_->err();
    return "http://127.0.0.1:" + std::to_string(port);
  }

  std::unique_ptr<Process> verb(std::vector<std::string> arguments, const std::string& input = {}) {
    return std::make_unique<Process>(folder_, VERB_BINARY, std::move(arguments), input);
  }

  TempFolder folder_;
  std::unique_ptr<Process> verbd_;
};

TEST_F(ClientTest, OneShotPrintsTheBodyOrTheWholeResponse) {
  std::string base = start_verbd();
  auto plain = verb({"GET", base + "/index.html"});
  EXPECT_EQ(plain->exit_code(), 0);
  EXPECT_EQ(plain->out(), "HTTP GET Method (Success)\n");

  auto included = verb({"GET", "/index.html", "--base", base, "-i"});
  EXPECT_EQ(included->exit_code(), 0);
  std::string out = included->out();
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("\r\nContent-Length: 26\r\n\r\nHTTP GET Method (Success)\n"), std::string::npos) << out;
}

TEST_F(ClientTest, OneShotSendsDataHeadersAndFiles) {
  std::string base = start_verbd();
  folder_.write("payload.json", "{\"a\": 1}");
  auto put = verb({"PUT", base + "/doc.json", "-d", "@" + (folder_ / "payload.json").string(), "-H",
                   "Content-Type: application/json", "-v"});
  EXPECT_EQ(put->exit_code(), 0);
  EXPECT_NE(put->err().find("PUT /doc.json HTTP/1.1\r\nHost: 127.0.0.1:"), std::string::npos) << put->err();
  EXPECT_NE(put->err().find("Content-Type: application/json\r\nContent-Length: 8\r\n\r\n{\"a\": 1}"),
            std::string::npos)
      << put->err();
  auto get = verb({"GET", base + "/doc.json", "-i"});
  EXPECT_EQ(get->exit_code(), 0);
  EXPECT_NE(get->out().find("Content-Type: application/json"), std::string::npos);
  EXPECT_NE(get->out().find("{\"a\": 1}"), std::string::npos);
  auto post = verb({"POST", base + "/log", "-d", "line\n", "--http1.0", "-v"});
  EXPECT_EQ(post->exit_code(), 0);
  EXPECT_NE(post->err().find("POST /log HTTP/1.0\r\n"), std::string::npos);
}

TEST_F(ClientTest, OneShotExitCodes) {
  std::string base = start_verbd();
  auto missing = verb({"GET", base + "/nope"});
  EXPECT_EQ(missing->exit_code(), 0);
  EXPECT_EQ(missing->out(), "404 Not Found\n");
  auto failing = verb({"GET", base + "/nope", "--fail"});
  EXPECT_EQ(failing->exit_code(), 1);

  auto bad_url = verb({"GET", "ftp://example.com/"});
  EXPECT_EQ(bad_url->exit_code(), 2);
  EXPECT_EQ(bad_url->err(), "verb: 'ftp://example.com/': only http:// and https:// URLs are supported\n");
  auto no_url = verb({"GET"});
  EXPECT_EQ(no_url->exit_code(), 2);

  auto refused = verb({"GET", "http://127.0.0.1:1/"});
  EXPECT_EQ(refused->exit_code(), 3);
  EXPECT_EQ(refused->err(), "verb: cannot connect to 127.0.0.1:1: Connection refused\n");
  auto unknown = verb({"GET", "http://unknown-host.invalid/"});
  EXPECT_EQ(unknown->exit_code(), 3);
  EXPECT_NE(unknown->err().find("verb: cannot resolve host 'unknown-host.invalid'"), std::string::npos);
}

TEST_F(ClientTest, ScriptReplaysTheWalkthroughs) {
  std::string base = start_verbd();
  auto run = verb({"--script", VERB_EXAMPLES "/walkthrough.toml", "--base", base});
  EXPECT_EQ(run->exit_code(), 0) << run->out();
  std::string out = run->out();
  EXPECT_NE(out.find("\n16 passed, 0 failed\n"), std::string::npos) << out;
  EXPECT_NE(out.find("=== case 1: post the first message: the board is created\nPOST /board HTTP/1.1\r\n"),
            std::string::npos);
  EXPECT_NE(out.find("---\nHTTP/1.1 201 Created\r\n"), std::string::npos);
}

TEST_F(ClientTest, ScriptReportsFailuresWithReasons) {
  std::string base = start_verbd();
  folder_.write("cases.toml", R"([[case]]
url = "/index.html"
expect_status = 404
expect_body_contains = "Failure"
expect_header = { Content-Type = "text/plain" }

[[case]]
method = "PUT"
url = "/x"
body = "y"
expect_status = 201
)");
  auto run = verb({"--script", (folder_ / "cases.toml").string(), "--base", base});
  EXPECT_EQ(run->exit_code(), 1);
  std::string out = run->out();
  EXPECT_NE(out.find("FAILED: status 200, expected 404\n"), std::string::npos) << out;
  EXPECT_NE(out.find("FAILED: body does not contain 'Failure'\n"), std::string::npos) << out;
  EXPECT_NE(out.find("FAILED: header Content-Type is 'text/html; charset=utf-8', expected 'text/plain'\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("PASSED\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 19), "1 passed, 1 failed\n");
}

TEST_F(ClientTest, ScriptRefusesABadFile) {
  folder_.write("bad.toml", "[[case]]\nmethod = \"GET\"\nurl = 5\n");
  auto run = verb({"--script", (folder_ / "bad.toml").string()});
  EXPECT_EQ(run->exit_code(), 2);
  EXPECT_EQ(run->err(), "verb: " + (folder_ / "bad.toml").string() + ":3:7: url must be a string\n");
}

TEST_F(ClientTest, InteractiveThroughAPipeReusesTheConnection) {
  std::string base = start_verbd();
  folder_.write("input.txt", "PUT\n/db/name\n\nkangjuseong\nGET\n/db/name\n1.0\nHEAD\n/index.html\n\nquit\n");
  auto run = verb({"--base", base}, (folder_ / "input.txt").string());
  EXPECT_EQ(run->exit_code(), 0);
  std::string out = run->out();
  EXPECT_EQ(out.rfind("METHOD >> PUT\nURL >> /db/name\nHTTP VERSION >> \nMESSAGE >> kangjuseong\nHTTP/1.1 "
                      "201 Created\r\n",
                      0),
            0u)
      << out;
  EXPECT_NE(out.find("METHOD >> GET\nURL >> /db/name\nHTTP VERSION >> 1.0\nHTTP/1.1 200 OK\r\n"),
            std::string::npos);
  EXPECT_NE(out.find("\r\n\r\nkangjuseong\n"), std::string::npos);
  EXPECT_NE(out.find("Content-Length: 26\r\n\r\nMETHOD >> quit\n"), std::string::npos)
      << out;  // HEAD: no body
  verbd_->signal(SIGTERM);
  verbd_->exit_code();
  // One client port in all three access-log lines: one connection.
  std::regex peer("\\[access\\] info: 127\\.0\\.0\\.1:([0-9]+) ");
  std::string log = verbd_->err();
  std::vector<std::string> ports;
  for (std::sregex_iterator it(log.begin(), log.end(), peer), end; it != end; ++it) ports.push_back((*it)[1]);
  ASSERT_EQ(ports.size(), 3u) << log;
  EXPECT_EQ(ports[0], ports[1]);
  EXPECT_EQ(ports[1], ports[2]);
}

TEST_F(ClientTest, InteractiveReconnectsWhenTheServerClosedAnIdleConnection) {
  folder_.write("verbd.toml", slurp(folder_ / "verbd.toml") + "[limits]\nidle_timeout_ms = 200\n");
  std::string base = start_verbd();
  std::string fifo = (folder_ / "typing").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Held open read-write so that neither end's open() waits for the other.
  int holder = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);
  auto run = verb({"--base", base}, fifo);
  {
    std::ofstream typing(fifo);
    ::close(holder);
    typing << "GET\n/index.html\n\n" << std::flush;
    std::this_thread::sleep_for(std::chrono::milliseconds(600));  // verbd closes the idle connection
    typing << "GET\n/missing\n\n" << std::flush;
  }
  EXPECT_EQ(run->exit_code(), 0);
  EXPECT_NE(run->out().find("HTTP/1.1 200 OK"), std::string::npos) << run->out();
  EXPECT_NE(run->out().find("HTTP/1.1 404 Not Found"), std::string::npos) << run->out() << run->err();
  EXPECT_EQ(run->err(), "");
}

struct Framing {
  const char* name;
  std::vector<Step> steps;
  std::vector<std::string> arguments;
  int exit_code;
  std::string out;
};

void PrintTo(const Framing& framing, std::ostream* out) { *out << framing.name; }

class ClientFraming : public ::testing::TestWithParam<Framing> {};

TEST_P(ClientFraming, ReadsTheResponse) {
  TempFolder folder;
  CannedServer server(GetParam().steps);
  std::vector<std::string> arguments = GetParam().arguments;
  arguments[1] = "http://127.0.0.1:" + std::to_string(server.port()) + arguments[1];
  Process verb(folder, VERB_BINARY, arguments);
  EXPECT_EQ(verb.exit_code(), GetParam().exit_code) << verb.err();
  EXPECT_EQ(verb.out(), GetParam().out) << verb.err();
}

const std::string ok_head = "HTTP/1.1 200 OK\r\n";

INSTANTIATE_TEST_SUITE_P(
    Framings, ClientFraming,
    ::testing::Values(
        Framing{"content_length",
                {{Step::read_head, ""}, {Step::send, ok_head + "Content-Length: 5\r\n\r\nhelloEXTRA"}},
                {"GET", "/"},
                0,
                "hello"},
        Framing{
            "chunked_with_trailers",
            {{Step::read_head, ""},
             {Step::send, ok_head + "Transfer-Encoding: chunked\r\n\r\n5\r\nHello\r\n6;x=y\r\n World\r\n0\r\n"
                                    "X-Trailer: t\r\n\r\n"}},
            {"GET", "/"},
            0,
            "Hello World"},
        Framing{"close_delimited",
                {{Step::read_head, ""}, {Step::send, ok_head + "\r\nuntil the end"}, {Step::close, ""}},
                {"GET", "/"},
                0,
                "until the end"},
        Framing{"continue_first",
                {{Step::read_head, ""},
                 {Step::send, "HTTP/1.1 100 Continue\r\n\r\n"},
                 {Step::read_bytes, "4"},
                 {Step::send, ok_head + "Content-Length: 2\r\n\r\nok"}},
                {"PUT", "/", "-d", "data"},
                0,
                "ok"},
        Framing{"head_ignores_length",
                {{Step::read_head, ""},
                 {Step::send, ok_head + "Content-Length: 1000\r\n\r\n"},
                 {Step::stall, ""}},
                {"HEAD", "/", "-i"},
                0,
                ok_head + "Content-Length: 1000\r\n\r\n"},
        Framing{"no_content",
                {{Step::read_head, ""}, {Step::send, "HTTP/1.1 204 No Content\r\n\r\n"}, {Step::stall, ""}},
                {"DELETE", "/", "-i"},
                0,
                "HTTP/1.1 204 No Content\r\n\r\n"},
        Framing{"not_modified",
                {{Step::read_head, ""},
                 {Step::send, "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n"},
                 {Step::stall, ""}},
                {"GET", "/", "-i"},
                0,
                "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n"},
        Framing{"malformed", {{Step::read_head, ""}, {Step::send, "NONSENSE\r\n\r\n"}}, {"GET", "/"}, 5, ""},
        Framing{"closed_without_response", {{Step::read_head, ""}, {Step::close, ""}}, {"GET", "/"}, 5, ""},
        Framing{"cut_short",
                {{Step::read_head, ""},
                 {Step::send, ok_head + "Content-Length: 10\r\n\r\nabc"},
                 {Step::close, ""}},
                {"GET", "/"},
                5,
                ""},
        Framing{
            "timeout", {{Step::read_head, ""}, {Step::stall, ""}}, {"GET", "/", "--timeout", "0.3"}, 4, ""}),
    [](const auto& test) { return std::string(test.param.name); });

}  // namespace
}  // namespace verbd::test
