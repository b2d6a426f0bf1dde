// The verbd program itself: exit codes, --check, --version, config errors,
// and a clean stop on SIGTERM and SIGINT.
#include "../support/http_client.hpp"
#include "../support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

extern char** environ;

namespace verbd::testing {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& file) {
  std::ifstream in(file);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// verbd started with `arguments`, its stdout and stderr going to files.
class Process {
 public:
  // `max_files`: the child's RLIMIT_NOFILE, when not 0.
  Process(const TempFolder& folder, std::vector<std::string> arguments, rlim_t max_files = 0)
      : folder_(folder) {
    arguments.insert(arguments.begin(), VERBD_BINARY);
    std::vector<char*> argv;
    for (auto& argument : arguments) argv.push_back(argument.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, (folder / "stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_addopen(&actions, 2, (folder / "stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    // posix_spawn cannot set limits, but the child inherits ours: lower the
    // soft limit around the spawn (this test runs no other thread).
    rlimit saved{};
    ::getrlimit(RLIMIT_NOFILE, &saved);
    if (max_files != 0) {
      rlimit lowered{max_files, saved.rlim_max};
      ::setrlimit(RLIMIT_NOFILE, &lowered);
    }
    EXPECT_EQ(posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ), 0);
    ::setrlimit(RLIMIT_NOFILE, &saved);
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  int exit_code() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  void signal(int number) { ::kill(pid_, number); }
  // CPU seconds the process has used so far (user + system).
  double cpu_seconds() const {
    std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
    std::string field;
    for (int i = 1; i <= 13 && stat >> field; ++i) {
    }
    long user = 0, system = 0;
    stat >> user >> system;
    return double(user + system) / double(::sysconf(_SC_CLK_TCK));
  }
  std::string out() const { return slurp(folder_ / "stdout"); }
  std::string err() const { return slurp(folder_ / "stderr"); }

  // The port from the "listening on http://127.0.0.1:PORT/" log line.
  std::uint16_t port() const {
    std::regex listening("listening on http://127\\.0\\.0\\.1:([0-9]+)/");
    for (int i = 0; i < 200; ++i) {
      std::smatch match;
      std::string log = err();
      if (std::regex_search(log, match, listening)) return static_cast<std::uint16_t>(std::stoi(match[1]));
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return 0;
  }

 private:
  const TempFolder& folder_;
  pid_t pid_ = -1;
};

class CommandLine : public ::testing::Test {
 protected:
  CommandLine() {
    folder_.write("verbd.toml", "[server]\nport = 0\n[plugins]\ndirectory = \"" +
                                    std::string(VERBD_PLUGIN_DIR) +
                                    "\"\n[store]\nroot = \"data\"\nfsync = false\n");
    folder_.write("data/index.html", "HTTP GET Method (Success)\n");
  }
  std::string config() const { return (folder_ / "verbd.toml").string(); }
  TempFolder folder_;
};

TEST_F(CommandLine, PrintsItsVersion) {
  Process verbd(folder_, {"--version"});
  EXPECT_EQ(verbd.exit_code(), 0);
  EXPECT_EQ(verbd.out(), "verbd " VERBD_VERSION " (plugin ABI 1.0)\n");
}

TEST_F(CommandLine, WantsAConfigFile) {
  Process verbd(folder_, {});
  EXPECT_EQ(verbd.exit_code(), 2);
  EXPECT_NE(verbd.err().find("--config is required"), std::string::npos) << verbd.err();
}

TEST_F(CommandLine, ABadConfigExitsWith2AndNamesThePlace) {
  folder_.write("bad.toml", "[server]\nport = \"eighty\"\n");
  Process verbd(folder_, {"--config", (folder_ / "bad.toml").string()});
  EXPECT_EQ(verbd.exit_code(), 2);
  EXPECT_EQ(verbd.err(), "verbd: " + (folder_ / "bad.toml").string() +
                             ":2:8: server.port must be an integer from 0 to 65535\n");
}

TEST_F(CommandLine, CheckPrintsThePluginTable) {
  Process verbd(folder_, {"--check", "--config", config()});
  EXPECT_EQ(verbd.exit_code(), 0);
  std::string table = verbd.out();
  EXPECT_EQ(table.rfind("METHOD", 0), 0u);
  for (const char* row : {"GET        get.so", "HEAD       head.so", "POST       post.so",
                          "PUT        put.so", "DELETE     delete.so"})
    EXPECT_NE(table.find(row), std::string::npos) << row << "\n" << table;
  EXPECT_NE(table.find("1.0.0      1.0"), std::string::npos) << table;
}

TEST_F(CommandLine, CheckFailsNamingEachBadFile) {
  fs::create_directories(folder_ / "plugins");
  fs::copy_file(fs::path(VERBD_PLUGIN_DIR) / "get.so", folder_ / "plugins/get.so");
  fs::copy_file(fs::path(VERBD_TEST_PLUGIN_DIR) / "wrong_abi.so", folder_ / "plugins/patch.so");
  Process verbd(folder_, {"--check", "--config", config(), "--plugins", (folder_ / "plugins").string()});
  EXPECT_EQ(verbd.exit_code(), 1);
  EXPECT_NE(verbd.out().find("GET        get.so"), std::string::npos);
  EXPECT_NE(verbd.err().find((folder_ / "plugins/patch.so").string() +
                             ": built for SDK ABI 2, this host speaks ABI 1: rebuild it against this SDK"),
            std::string::npos)
      << verbd.err();
}

TEST_F(CommandLine, ServesAndStopsCleanlyOnSigterm) {
  Process verbd(folder_, {"--config", config()});
  std::uint16_t port = verbd.port();
  ASSERT_NE(port, 0) << verbd.err();
  Reply reply = fetch(port, "GET", "/index.html");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "HTTP GET Method (Success)\n");
  verbd.signal(SIGTERM);
  EXPECT_EQ(verbd.exit_code(), 0);
  std::string log = verbd.err();
  EXPECT_NE(log.find("[plugins] info:   GET      get.so"), std::string::npos) << log;
  EXPECT_NE(log.find("[access] info: 127.0.0.1:"), std::string::npos) << log;
  EXPECT_NE(log.find("\"GET /index.html HTTP/1.1\" 200"), std::string::npos) << log;
  EXPECT_NE(log.find("[server] info: stopped"), std::string::npos) << log;
}

TEST_F(CommandLine, StopsOnSigintWhileAClientIsIdle) {
  Process verbd(folder_, {"--config", config()});
  std::uint16_t port = verbd.port();
  ASSERT_NE(port, 0) << verbd.err();
  Client idle(port);
  EXPECT_EQ(idle.request("GET", "/index.html").status, 200);
  verbd.signal(SIGINT);
  EXPECT_EQ(verbd.exit_code(), 0);
  EXPECT_TRUE(idle.closed_by_server());
}

TEST_F(CommandLine, DebugLevelPrintsTheRequestHead) {
  Process verbd(folder_, {"--config", config(), "--log-level", "debug"});
  std::uint16_t port = verbd.port();
  ASSERT_NE(port, 0) << verbd.err();
  fetch(port, "GET", "/index.html", {}, {"X-Student: socket"});
  verbd.signal(SIGTERM);
  EXPECT_EQ(verbd.exit_code(), 0);
  EXPECT_NE(verbd.err().find("GET /index.html HTTP/1.1\nHost: 127.0.0.1\nX-Student: socket\n"),
            std::string::npos)
      << verbd.err();
}

TEST_F(CommandLine, OutOfFileDescriptorsItWaitsWithoutSpinningAndRecovers) {
  Process verbd(folder_, {"--config", config()}, 48);
  std::uint16_t port = verbd.port();
  ASSERT_NE(port, 0) << verbd.err();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 60; ++i)
    clients.push_back(std::make_unique<Client>(port));  // more than verbd can accept
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  double cpu_before = verbd.cpu_seconds();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_LT(verbd.cpu_seconds() - cpu_before, 0.5);  // a busy accept loop would use the whole second

  Client& waiting = *clients.back();
  waiting.send("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
  clients.erase(clients.begin(), clients.begin() + 40);  // frees descriptors in verbd
  Reply reply = waiting.read_reply();
  EXPECT_EQ(reply.status, 200);
  EXPECT_NE(verbd.err().find("accept failed: Too many open files; retrying in 100 ms"), std::string::npos);
  clients.clear();
  verbd.signal(SIGTERM);
  EXPECT_EQ(verbd.exit_code(), 0);
}

}  // namespace
}  // namespace verbd::testing
