// The logs as operators use them: the access log in Combined Log Format in
// a file of its own, errors in another, both reopened on SIGUSR1 (what
// logrotate sends) without losing a line, and whole lines from several
// worker processes at once.
#include "../support/http_client.hpp"
#include "../support/plugin_folder.hpp"
#include "../support/process.hpp"
#include "../support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

namespace verbd::test {
namespace {

namespace fs = std::filesystem;

const std::regex combined_line(
    R"re(127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET /index\.html\?n=(\d+) HTTP/1\.1" 200 26 "-" "(test-agent-x*)")re");

class Logs : public ::testing::Test {
 protected:
  void configure(unsigned workers, const std::string& log_table) {
    folder_.write("verbd.toml", "[server]\nport = 0\nworkers = " + std::to_string(workers) +
                                    "\n[plugins]\ndirectory = \"" + std::string(VERBD_PLUGIN_DIR) +
                                    "\"\n[store]\nroot = \"data\"\nfsync = false\n[log]\n" + log_table);
    folder_.write("data/index.html", "HTTP GET Method (Success)\n");
  }
  std::string config() const { return (folder_ / "verbd.toml").string(); }

  // The port from the "listening on" line, in the error log rather than on stderr.
  std::uint16_t port_from(const fs::path& error_log) const {
    std::regex listening("listening on http://127\\.0\\.0\\.1:([0-9]+)/");
    for (int i = 0; i < 200; ++i) {
      std::smatch match;
      std::string log = slurp(error_log);
      if (std::regex_search(log, match, listening)) return static_cast<std::uint16_t>(std::stoi(match[1]));
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return 0;
  }

  // The numbers n of the access lines in `file`; fails on a line that is not whole.
  static std::multiset<int> requests_in(const fs::path& file, std::size_t agent_size) {
    std::multiset<int> numbers;
    std::istringstream lines(slurp(file));
    std::string line;
    while (std::getline(lines, line)) {
      std::smatch match;
      EXPECT_TRUE(std::regex_match(line, match, combined_line))
          << "not a whole line: " << line.substr(0, 200);
      if (match.size() < 3) continue;
      EXPECT_EQ(match[2].length(), static_cast<long>(agent_size)) << line.substr(0, 200);
      numbers.insert(std::stoi(match[1]));
    }
    return numbers;
  }

  TempFolder folder_;
};

TEST_F(Logs, AccessAndErrorLinesGoToTheirFilesAndNothingToStderr) {
  configure(1, "access_file = \"logs/access.log\"\nerror_file = \"logs/error.log\"\n");
  fs::create_directories(folder_ / "logs");
  Process verbd(folder_, VERBD_BINARY, {"--config", config()});
  std::uint16_t port = port_from(folder_ / "logs/error.log");
  ASSERT_NE(port, 0) << slurp(folder_ / "logs/error.log") << verbd.err();
  EXPECT_EQ(fetch(port, "GET", "/index.html?n=1", {}, {"User-Agent: test-agent-"}).status, 200);
  verbd.signal(SIGTERM);
  EXPECT_EQ(verbd.exit_code(), 0);
  EXPECT_EQ(requests_in(folder_ / "logs/access.log", 11), std::multiset<int>{1});
  std::string errors = slurp(folder_ / "logs/error.log");
  EXPECT_NE(errors.find("[supervisor] info: stopped"), std::string::npos) << errors;
  EXPECT_EQ(errors.find("GET /index.html"), std::string::npos) << errors;
  EXPECT_EQ(verbd.err(), "");
}

TEST_F(Logs, Sigusr1ReopensBothFilesWithoutLosingALine) {
  configure(2, "access_file = \"access.log\"\nerror_file = \"error.log\"\n");
  Process verbd(folder_, VERBD_BINARY, {"--config", config()});
  std::uint16_t port = port_from(folder_ / "error.log");
  ASSERT_NE(port, 0) << slurp(folder_ / "error.log");
  std::atomic<int> sent{0};
  std::atomic<bool> rotated{false};
  std::atomic<int> first_after_rotation{-1};
  std::thread client([&] {
    for (int n = 0; n < 600; ++n) {
      if (rotated && first_after_rotation < 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));  // every process has reopened by now
        first_after_rotation = n;
      }
      ASSERT_EQ(
          fetch(port, "GET", "/index.html?n=" + std::to_string(n), {}, {"User-Agent: test-agent-"}).status,
          200);
      ++sent;
    }
  });
  while (sent < 200) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  fs::rename(folder_ / "access.log", folder_ / "access.log.1");  // as logrotate does
  fs::rename(folder_ / "error.log", folder_ / "error.log.1");
  verbd.signal(SIGUSR1);
  rotated = true;
  client.join();
  verbd.signal(SIGTERM);
  EXPECT_EQ(verbd.exit_code(), 0);

  auto before = requests_in(folder_ / "access.log.1", 11), after = requests_in(folder_ / "access.log", 11);
  std::multiset<int> all(before);
  all.insert(after.begin(), after.end());
  std::multiset<int> expected;
  for (int n = 0; n < 600; ++n) expected.insert(n);
  EXPECT_EQ(all, expected) << "each request logged once, in one file or the other";
  EXPECT_TRUE(before.count(0));
  for (int n = first_after_rotation; n < 600; ++n) EXPECT_TRUE(after.count(n)) << n << " not in the new file";
  EXPECT_NE(slurp(folder_ / "error.log").find("[supervisor] info: stopped"), std::string::npos);
  EXPECT_NE(slurp(folder_ / "error.log.1").find("listening on"), std::string::npos);
}

// The process of a plugin with isolation = "process" writes to the error log
// too. SIGUSR1 to verbd reaches it through its worker; sent to it directly,
// as `killall -USR1 verbd` does, it reopens the log instead of ending it.
TEST_F(Logs, Sigusr1ReachesTheProcessesOfIsolatedPlugins) {
  stock(folder_, {"throwing"}, {"get"});
  folder_.write("verbd.toml",
                "[server]\nport = 0\nworkers = 1\n[plugins]\ndirectory = \"plugins\"\n[plugins.throwing]\n"
                "isolation = \"process\"\n[store]\nroot = \"data\"\nfsync = false\n[log]\n"
                "error_file = \"error.log\"\n");
  Process verbd(folder_, VERBD_BINARY, {"--config", config()});
  std::uint16_t port = port_from(folder_ / "error.log");
  ASSERT_NE(port, 0) << slurp(folder_ / "error.log");
  // A line that the isolated process writes, in `file`, within 5 s of asking for it.
  auto isolated_line_in = [&](const fs::path& file, const std::string& target) {
    for (int i = 0; i < 200; ++i) {
      EXPECT_EQ(fetch(port, "THROW", target).status, 500);
      std::string log = slurp(file);
      if (log.find("isolated throwing.so") != std::string::npos && log.find(target) != std::string::npos)
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
  };
  ASSERT_TRUE(isolated_line_in(folder_ / "error.log", "/before")) << slurp(folder_ / "error.log");

  fs::rename(folder_ / "error.log", folder_ / "error.log.1");
  verbd.signal(SIGUSR1);
  EXPECT_TRUE(isolated_line_in(folder_ / "error.log", "/after-rotation")) << slurp(folder_ / "error.log");

  auto isolated_process = [&] {
    std::vector<pid_t> found = plugin_processes_below(verbd.pid());
    return found.empty() ? pid_t(0) : found.front();
  };
  pid_t isolated = isolated_process();
  ASSERT_GT(isolated, 0);
  fs::rename(folder_ / "error.log", folder_ / "error.log.2");
  ASSERT_EQ(::kill(isolated, SIGUSR1), 0);
  EXPECT_TRUE(isolated_line_in(folder_ / "error.log", "/after-direct-signal"))
      << slurp(folder_ / "error.log");
  EXPECT_EQ(isolated_process(), isolated) << "the signal ended it";
  EXPECT_EQ(slurp(folder_ / "error.log").find("died"), std::string::npos) << slurp(folder_ / "error.log");
}

TEST_F(Logs, LinesOfSeveralProcessesNeverInterleave) {
  configure(4, "access_file = \"access.log\"\n");
  Process verbd(folder_, VERBD_BINARY, {"--config", config()});
  std::uint16_t port = verbd.port();
  ASSERT_NE(port, 0) << verbd.err();
  std::string agent = "test-agent-" + std::string(6000, 'x');  // lines longer than a stdio buffer
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c)
    clients.emplace_back([&, c] {
      Client client(port);
      for (int i = 0; i < 150; ++i)
        EXPECT_EQ(
            client
                .request("GET", "/index.html?n=" + std::to_string(c * 150 + i), {}, {"User-Agent: " + agent})
                .status,
            200);
    });
  for (auto& client : clients) client.join();
  verbd.signal(SIGTERM);
  EXPECT_EQ(verbd.exit_code(), 0);
  auto logged = requests_in(folder_ / "access.log", agent.size());
  EXPECT_EQ(logged.size(), 1200u);
  EXPECT_EQ(std::set<int>(logged.begin(), logged.end()).size(), 1200u);
}

TEST_F(Logs, ALogFileThatCannotBeOpenedStopsTheStartNamingIt) {
  configure(1, "access_file = \"no/such/folder/access.log\"\n");
  Process verbd(folder_, VERBD_BINARY, {"--config", config()});
  EXPECT_EQ(verbd.exit_code(), 1);
  EXPECT_NE(verbd.err().find("cannot open the log file " + (folder_ / "no/such/folder/access.log").string() +
                             ": No such file or directory"),
            std::string::npos)
      << verbd.err();
}

// GoAccess, the log analyser, reads every line of 10,000.
TEST_F(Logs, GoaccessReadsTheCombinedLogWithoutAFailedLine) {
  if (std::system("command -v goaccess >/dev/null") != 0) GTEST_FAIL() << "goaccess is not installed";
  configure(2, "access_file = \"access.log\"\n");
  Process verbd(folder_, VERBD_BINARY, {"--config", config()});
  std::uint16_t port = verbd.port();
  ASSERT_NE(port, 0) << verbd.err();
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c)
    clients.emplace_back([&, c] {
      Client client(port);
      for (int i = 0; i < 2500; ++i) {
        std::string target =
            i % 10 == 0 ? "/missing-" + std::to_string(i) : "/index.html?c=" + std::to_string(c);
        client.request(
            i % 7 == 0 ? "HEAD" : "GET", target, {},
            {"User-Agent: Mozilla/5.0 (X11; Linux x86_64) \"quoted\"", "Referer: http://example.test/"});
      }
    });
  for (auto& client : clients) client.join();
  verbd.signal(SIGTERM);
  EXPECT_EQ(verbd.exit_code(), 0);
  std::string report = (folder_ / "report.json").string();
  std::string command = "goaccess --log-format=COMBINED --no-global-config -o " + report + " " +
                        (folder_ / "access.log").string() + " 2>" + (folder_ / "goaccess.err").string();
  ASSERT_EQ(std::system(command.c_str()), 0) << slurp(folder_ / "goaccess.err");
  std::string json = slurp(report);
  EXPECT_NE(json.find("\"total_requests\": 10000"), std::string::npos) << json.substr(0, 600);
  EXPECT_NE(json.find("\"failed_requests\": 0"), std::string::npos) << json.substr(0, 600);
}

}  // namespace
}  // namespace verbd::test
