// A plugin that crashes costs the connections of the one worker process it
// ran in, and nothing else: the supervisor restarts that worker, says in
// one line which plugin did it, on which request, with which signal, and
// quarantines a plugin that keeps crashing workers.
#include "../support/http_client.hpp"
#include "../support/plugin_folder.hpp"
#include "../support/process.hpp"
#include "../support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

namespace verbd::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class Crashes : public ::testing::Test {
 protected:
  void start(const std::string& plugins_keys = "") {
    stock(folder_, {"crash"}, {"get", "head", "put", "post", "delete"});
    folder_.write("data/index.html", "still here\n");
    folder_.write("verbd.toml", "[server]\nport = 0\nworkers = 2\n[plugins]\ndirectory = \"plugins\"\n" +
                                    plugins_keys +
                                    "[store]\nroot = \"data\"\nfsync = false\n[log]\naccess = false\n");
    verbd_ = std::make_unique<Process>(
        folder_, VERBD_BINARY, std::vector<std::string>{"--config", (folder_ / "verbd.toml").string()});
    port_ = verbd_->port();
    ASSERT_NE(port_, 0) << verbd_->err();
  }

  // The process id of the worker a connection is served by.
  static std::string worker_of(Client& client) { return client.request("CRASH", "/pid").body; }

  // How many lines of the log match `pattern`, once there are `count` (or after 5 s).
  std::size_t wait_for_log(const std::string& pattern, std::size_t count = 1) {
    std::regex wanted(pattern);
    std::size_t found = 0;
    for (auto deadline = Clock::now() + 5s; Clock::now() < deadline; std::this_thread::sleep_for(10ms)) {
      std::string log = verbd_->err();
      found = std::distance(std::sregex_iterator(log.begin(), log.end(), wanted), std::sregex_iterator());
      if (found >= count) break;
    }
    return found;
  }

  // Crashes a worker through a connection of its own; returns when the
  // supervisor has logged the restart (the `nth` one).
  void crash_once(const std::string& how, std::size_t nth) {
    Client doomed(port_);
    EXPECT_ANY_THROW(doomed.request("CRASH", how));
    ASSERT_EQ(wait_for_log("restarted as pid", nth), nth) << verbd_->err();
  }

  TempFolder folder_;
  std::unique_ptr<Process> verbd_;
  std::uint16_t port_ = 0;
};

// Connections to both workers: the kernel spreads them over the workers'
// sockets by their addresses, so a few tries find both.
std::map<std::string, std::vector<std::unique_ptr<Client>>> connections_on_each_worker(std::uint16_t port) {
  std::map<std::string, std::vector<std::unique_ptr<Client>>> by_worker;
  for (int tries = 0; tries < 400; ++tries) {
    auto client = std::make_unique<Client>(port);
    std::string pid = client->request("CRASH", "/pid").body;
    if (by_worker[pid].size() < 3) by_worker[pid].push_back(std::move(client));
    if (by_worker.size() == 2 && by_worker.begin()->second.size() == 3 &&
        by_worker.rbegin()->second.size() == 3)
      break;
  }
  return by_worker;
}

struct Fault {
  const char* path;
  const char* death;  // as the supervisor's log line says it
};

void PrintTo(const Fault& fault, std::ostream* out) { *out << fault.path; }

class EachFault : public Crashes, public ::testing::WithParamInterface<Fault> {};

TEST_P(EachFault, CostsOneWorkersConnectionsAndIsNamedInTheLog) {
  start("quarantine_after = 1000\n");
  auto by_worker = connections_on_each_worker(port_);
  ASSERT_EQ(by_worker.size(), 2u) << "found connections on one worker only";
  auto& [doomed_pid, doomed] = *by_worker.begin();
  auto& [spared_pid, spared] = *by_worker.rbegin();

  // Load on the other worker's connections, for as long as the crash lasts.
  std::atomic<bool> running{true};
  std::atomic<int> answered{0}, failed{0};
  std::vector<std::thread> load;
  for (auto& client : spared)
    load.emplace_back([&, connection = client.get()] {
      while (running) try {
          (connection->request("GET", "/index.html").body == "still here\n" ? answered : failed)++;
        } catch (const std::exception&) {
          ++failed;
          return;
        }
    });
  std::this_thread::sleep_for(50ms);

  auto crashed_at = Clock::now();
  EXPECT_ANY_THROW(doomed.front()->request("CRASH", GetParam().path));
  // New connections are answered at once, by either worker; the crashed
  // worker's socket is answered by its replacement.
  std::string replacement;
  for (auto deadline = Clock::now() + 5s; replacement.empty() && Clock::now() < deadline;) {
    std::string pid = fetch(port_, "CRASH", "/pid").body;
    if (pid != spared_pid && pid != doomed_pid) replacement = pid;
  }
  auto recovered_ms = std::chrono::duration<double, std::milli>(Clock::now() - crashed_at).count();
  RecordProperty("crash_to_replacement_answer_ms", std::to_string(recovered_ms));
  EXPECT_FALSE(replacement.empty()) << "no replacement worker answered";
  std::this_thread::sleep_for(50ms);
  running = false;
  for (auto& thread : load) thread.join();

  EXPECT_EQ(failed.load(), 0) << "a request on the other worker failed";
  EXPECT_GT(answered.load(), 0);
  for (std::size_t i = 1; i < doomed.size(); ++i)  // the crashed worker's other connections are gone
    EXPECT_ANY_THROW(doomed[i]->request("GET", "/index.html"));
  std::string line = "worker [12] \\(pid " + doomed_pid + "\\) " + GetParam().death +
                     " in plugin crash\\.so \\(crash 1\\.0\\.0, generation 1\\) handling CRASH " +
                     GetParam().path + "; restarted as pid " + replacement + " in [0-9]+ ms";
  EXPECT_EQ(wait_for_log(line), 1u) << "no line matching " << line << " in\n" << verbd_->err();
}

INSTANTIATE_TEST_SUITE_P(Plugins, EachFault,
                         ::testing::Values(Fault{"/null", "killed by SIGSEGV"},
                                           Fault{"/abort", "killed by SIGABRT"},
                                           Fault{"/terminate", "killed by SIGABRT"},
                                           Fault{"/recurse", "killed by SIGSEGV"},
                                           Fault{"/exit", "exited with status 3"}),
                         [](const auto& test) { return std::string(test.param.path + 1); });

TEST_F(Crashes, AWorkerThatDiesOutsidePluginCodeIsSaidToAndRestarted) {
  start();
  Client client(port_);
  std::string pid = worker_of(client);
  ASSERT_EQ(::kill(std::stoi(pid), SIGKILL), 0);
  std::string line =
      "worker [12] \\(pid " + pid + "\\) killed by SIGKILL outside plugin code; restarted as pid";
  EXPECT_EQ(wait_for_log(line), 1u) << verbd_->err();
  EXPECT_EQ(fetch(port_, "GET", "/index.html").status, 200);
}

TEST_F(Crashes, TheThirdCrashInTheWindowQuarantinesThePluginUntilItsFileIsReplacedOrSighup) {
  start();  // the defaults: 3 crashes within 60 s
  crash_once("/null", 1);
  crash_once("/abort", 2);
  EXPECT_EQ(fetch(port_, "CRASH", "/pid").status, 200);  // two crashes: not yet
  crash_once("/null", 3);

  for (int i = 0; i < 6; ++i) {  // on new connections, to both workers
    Reply reply = fetch(port_, "CRASH", "/pid");
    EXPECT_EQ(reply.status, 503);
    EXPECT_EQ(reply.header("Retry-After"), "60");
    EXPECT_NE(reply.body.find("crash.so (crash 1.0.0), is quarantined"), std::string::npos) << reply.body;
  }
  EXPECT_EQ(fetch(port_, "GET", "/index.html").status, 200);  // other plugins go on
  EXPECT_EQ(wait_for_log("plugin crash\\.so \\(crash 1\\.0\\.0\\) quarantined: 3 crashes within 60 s"), 1u);
  EXPECT_EQ(wait_for_log("CRASH +crash\\.so .* QUARANTINED: answers 503"), 1u)  // the replacement's table
      << verbd_->err();
  Process check(folder_, VERBD_BINARY, {"--check", "--config", (folder_ / "verbd.toml").string()});
  EXPECT_EQ(check.exit_code(), 0);
  EXPECT_TRUE(std::regex_search(check.out(), std::regex("CRASH +crash\\.so .* quarantined\n")))
      << check.out();

  // A new version of the file is a new plugin: not quarantined.
  fs::copy_file(fs::path(VERBD_TEST_PLUGIN_DIR) / "crash.so", folder_ / "plugins/crash.so",
                fs::copy_options::overwrite_existing);
  int answered = 0;
  for (auto deadline = Clock::now() + 5s; answered < 6 && Clock::now() < deadline;)
    answered = fetch(port_, "CRASH", "/pid").status == 200 ? answered + 1 : 0;
  EXPECT_EQ(answered, 6) << "the replaced plugin is still quarantined";

  crash_once("/null", 4);
  crash_once("/null", 5);
  crash_once("/null", 6);
  EXPECT_EQ(fetch(port_, "CRASH", "/pid").status, 503);
  verbd_->signal(SIGHUP);
  EXPECT_EQ(wait_for_log("SIGHUP: [0-9]+ quarantined plugin\\(s\\) lifted"), 1u);
  EXPECT_EQ(fetch(port_, "CRASH", "/pid").status, 200);
}

// max_connections counts the connections of both worker processes
// together, and a dead worker's connections no longer count.
TEST_F(Crashes, MaxConnectionsCountsEveryWorkerProcessAndForgetsADeadOnesConnections) {
  start("quarantine_after = 1000\n[limits]\nmax_connections = 6\n");
  std::vector<std::unique_ptr<Client>> open;
  std::set<std::string> workers;
  for (int i = 0; i < 6; ++i) {
    open.push_back(std::make_unique<Client>(port_));
    workers.insert(worker_of(*open.back()));
  }
  Reply refused = fetch(port_, "GET", "/index.html");
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.header("Retry-After"), "1");
  RecordProperty("workers_holding_the_six", static_cast<int>(workers.size()));

  // A crash through one of the six: its worker's connections are freed.
  std::size_t on_doomed = 0;
  std::string doomed = worker_of(*open.front());
  for (auto& client : open) on_doomed += worker_of(*client) == doomed;
  EXPECT_ANY_THROW(open.front()->request("CRASH", "/null"));
  ASSERT_EQ(wait_for_log("restarted as pid"), 1u);
  std::vector<std::unique_ptr<Client>> newcomers;  // held open together: all their slots are free
  for (std::size_t i = 0; i < on_doomed; ++i) {
    newcomers.push_back(std::make_unique<Client>(port_));
    EXPECT_EQ(newcomers.back()->request("GET", "/index.html").status, 200);
  }
  EXPECT_EQ(fetch(port_, "GET", "/index.html").status, 503);
}

// A plugin whose factory crashes takes down each worker that loads it, as
// it starts or as it reloads the folder. Those crashes are charged to the
// plugin like any other; once it is quarantined the workers no longer load
// it, and serve the rest.
TEST_F(Crashes, APluginThatCrashesAsItIsLoadedIsQuarantinedAndNotLoaded) {
  start("[plugins.crash]\ncrash_when_made = true\n");
  EXPECT_GE(wait_for_log(
                "killed by SIGSEGV in plugin crash\\.so \\(crash 1\\.0\\.0, generation [0-9]+\\) as it was "
                "being loaded"),
            1u)
      << verbd_->err();
  EXPECT_EQ(wait_for_log(
                "plugin crash\\.so \\(crash 1\\.0\\.0\\) quarantined: 3 crashes within 60 s, the last as it "
                "was being loaded; it is not loaded until its file is replaced or verbd gets SIGHUP"),
            1u);
  EXPECT_GE(wait_for_log("crash\\.so: quarantined: it crashed or hung workers as they loaded it"),
            2u);                 // both workers
  for (int i = 0; i < 6; ++i) {  // on new connections, to both workers
    EXPECT_EQ(fetch(port_, "GET", "/index.html").status, 200);
    EXPECT_EQ(fetch(port_, "CRASH", "/pid").status, 405);
  }
}

// The same, dropped into the folder of a running server: each worker
// reloads the folder, and each, or its replacement, crashes on it until it
// is quarantined.
TEST_F(Crashes, APluginThatCrashesAsItIsLoadedCanBeDroppedInWithoutLastingHarm) {
  start("[plugins.crash]\ncrash_when_made = true\n");
  fs::remove(folder_ / "plugins/crash.so");  // quarantined already; a new file is a new plugin
  verbd_->signal(SIGHUP);
  EXPECT_EQ(wait_for_log("SIGHUP: 1 quarantined plugin\\(s\\) lifted"), 1u) << verbd_->err();
  EXPECT_EQ(fetch(port_, "GET", "/index.html").status, 200);
  fs::copy_file(fs::path(VERBD_TEST_PLUGIN_DIR) / "crash.so", folder_ / "plugins/crash.so");
  EXPECT_EQ(wait_for_log("quarantined: [0-9] crashes within 60 s, the last as it was being loaded", 2), 2u)
      << verbd_->err();
  int answered = 0;
  for (auto deadline = Clock::now() + 5s; answered < 6 && Clock::now() < deadline;)
    answered = fetch(port_, "GET", "/index.html").status == 200 ? answered + 1 : 0;
  EXPECT_EQ(answered, 6) << verbd_->err();
}

// isolation = "process": the plugin runs outside the worker; its crash
// fails the one request it was handling, with 502, on a connection that
// stays open, and nothing else.
TEST_F(Crashes, AnIsolatedPluginsCrashFailsOnlyItsRequestWith502OnAConnectionThatStaysOpen) {
  start("quarantine_after = 1\n[plugins.crash]\nisolation = \"process\"\n");
  Client client(port_);
  std::string isolated = worker_of(client);
  EXPECT_NE(slurp("/proc/" + isolated + "/cmdline").find(std::string("--serve-plugin\0", 15)),
            std::string::npos);

  std::atomic<bool> running{true};
  std::atomic<int> answered{0}, failed{0};
  std::vector<std::thread> load;
  for (int c = 0; c < 4; ++c)
    load.emplace_back([&] {
      Client other(port_);
      while (running) try {
          (other.request("GET", "/index.html").status == 200 ? answered : failed)++;
        } catch (const std::exception&) {
          ++failed;
          return;
        }
    });
  for (const char* fault : {"/null", "/abort", "/terminate", "/recurse", "/exit"}) {
    Reply crashed = client.request("CRASH", fault);
    EXPECT_EQ(crashed.status, 502) << fault;
    EXPECT_EQ(client.request("GET", "/index.html").status, 200) << "the connection did not survive " << fault;
  }
  std::string again = worker_of(client);  // started again
  EXPECT_NE(again, isolated);
  running = false;
  for (auto& thread : load) thread.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(answered.load(), 0);

  std::string line = "isolated plugin crash\\.so \\(crash 1\\.0\\.0, generation 1\\): its process \\(pid " +
                     isolated + "\\) killed by SIGSEGV handling CRASH /null; answered 502";
  EXPECT_EQ(wait_for_log(line), 1u) << verbd_->err();
  EXPECT_EQ(wait_for_log("exited with status 3 handling CRASH /exit; answered 502"), 1u);
  EXPECT_EQ(verbd_->err().find("restarted as pid"), std::string::npos) << "a worker died";
  EXPECT_EQ(fetch(port_, "CRASH", "/pid").status, 200);  // never quarantined, even with quarantine_after = 1
}

// The sockets and pipes a process has open beside standard input, output
// and error ("socket:[inode]"), which no other process has unless it
// inherited or was sent them.
std::set<std::string> sockets_and_pipes(const std::string& pid) {
  std::set<std::string> found;
  for (const auto& entry : fs::directory_iterator("/proc/" + pid + "/fd")) {
    if (std::stoi(entry.path().filename().string()) <= 2) continue;
    std::string names = fs::read_symlink(entry.path()).string();
    if (names.rfind("socket:", 0) == 0 || names.rfind("pipe:", 0) == 0) found.insert(names);
  }
  return found;
}

std::string parent_of(const std::string& pid) {
  std::string stat = slurp("/proc/" + pid + "/stat");
  std::istringstream after_name(stat.substr(stat.rfind(')') + 2));
  std::string state, parent;
  after_name >> state >> parent;
  return parent;
}

// Started again while clients are connected to its worker, the plugin's
// process shares no socket or pipe with the worker: not a client's
// connection, which it could read and write, and which would stay open
// after the worker closed it, nor anything else the worker opened.
TEST_F(Crashes, AnIsolatedPluginsProcessHoldsNoClientsConnection) {
  start("[plugins.crash]\nisolation = \"process\"\n");
  Client client(port_);
  std::vector<std::unique_ptr<Client>> others;
  for (int i = 0; i < 4; ++i) {
    others.push_back(std::make_unique<Client>(port_));
    EXPECT_EQ(others.back()->request("GET", "/index.html").status, 200);
  }
  EXPECT_EQ(client.request("CRASH", "/null").status, 502);
  std::string pid = worker_of(client);  // started again, with these connections open
  std::set<std::string> workers = sockets_and_pipes(parent_of(pid));
  EXPECT_GE(workers.size(), 2u) << "the worker's connections were not found";
  for (const auto& names : sockets_and_pipes(pid))
    EXPECT_EQ(workers.count(names), 0u) << names << " of its worker crossed into it";
}

// Whether a killed process has ended, and every thread of it: its
// descriptors close with the last thread, and its main thread, a zombie
// until the worker reaps it, may be the first to end.
bool ended_with_every_thread(const std::string& pid) {
  std::error_code error;
  auto threads = fs::directory_iterator("/proc/" + pid + "/task", error);
  if (error) return true;  // reaped
  if (std::distance(threads, fs::directory_iterator()) > 1) return false;
  std::string stat = slurp("/proc/" + pid + "/stat");
  return stat.empty() || stat.find(") Z") != std::string::npos;
}

// Killed between requests (by hand, out of memory), the process is started
// again for the next request, which it serves: it never saw that request,
// so only a request it was handling can be answered 502.
TEST_F(Crashes, AnIsolatedPluginsProcessKilledBetweenRequestsCostsNoRequest) {
  start("[plugins.crash]\nisolation = \"process\"\n");
  Client client(port_);
  std::string first = worker_of(client);
  ASSERT_EQ(::kill(std::stoi(first), SIGKILL), 0);
  for (auto deadline = Clock::now() + 5s; !ended_with_every_thread(first) && Clock::now() < deadline;)
    std::this_thread::sleep_for(10ms);
  Reply reply = client.request("CRASH", "/pid");
  EXPECT_EQ(reply.status, 200) << reply.body;
  EXPECT_NE(reply.body, first);
  EXPECT_EQ(
      wait_for_log("isolated plugin crash\\.so \\(crash 1\\.0\\.0, generation 1\\): its process \\(pid " +
                   first + "\\) killed by SIGKILL between requests; started again for CRASH /pid"),
      1u)
      << verbd_->err();
  EXPECT_EQ(verbd_->err().find("answered 502"), std::string::npos) << verbd_->err();
}

// Let go for a new version of its plugin, the old process ends as asked,
// with status 0; had it ended otherwise, the worker would log it.
TEST_F(Crashes, AnIsolatedPluginsProcessLetGoExitsWithStatusZero) {
  start("[plugins.crash]\nisolation = \"process\"\n");
  Client client(port_);
  std::string old = worker_of(client);
  fs::copy_file(fs::path(VERBD_TEST_PLUGIN_DIR) / "crash.so", folder_ / "plugins/crash.so",
                fs::copy_options::overwrite_existing);
  std::string answered_by = old;
  for (auto deadline = Clock::now() + 5s; answered_by == old && Clock::now() < deadline;)
    answered_by = worker_of(client);
  EXPECT_NE(answered_by, old) << "the new version never answered";
  for (auto deadline = Clock::now() + 5s; fs::exists("/proc/" + old) && Clock::now() < deadline;)
    std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(fs::exists("/proc/" + old)) << "never reaped";
  EXPECT_EQ(verbd_->err().find("let go"), std::string::npos) << verbd_->err();
}

// A plugin its own process cannot load is refused with the same reason as
// in a worker, and the rest is served.
TEST_F(Crashes, AnIsolatedPluginThatCannotLoadIsRefusedWithItsReason) {
  stock(folder_, {"factory_throws"});
  start("[plugins.factory_throws]\nisolation = \"process\"\n");
  EXPECT_EQ(wait_for_log("factory_throws\\.so: its factory failed: "), 2u)
      << verbd_->err();  // in each worker
  EXPECT_EQ(fetch(port_, "GET", "/index.html").status, 200);
}

// An isolated plugin sees the request as it would in the worker: the Allow
// value names every method the worker serves, not only its own.
TEST_F(Crashes, AnIsolatedPluginSeesTheWorkersAllow) {
  fs::create_directories(folder_ / "plugins");
  fs::copy_file(fs::path(VERBD_EXTRA_PLUGIN_DIR) / "options.so", folder_ / "plugins/options.so");
  start("[plugins.options]\nisolation = \"process\"\n");
  Reply reply = fetch(port_, "OPTIONS", "*");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("Allow"), "CRASH, DELETE, GET, HEAD, OPTIONS, POST, PUT");
}

TEST_F(Crashes, SigtermStopsEveryWorkerAndTheSupervisorWithStatusZero) {
  start();
  EXPECT_EQ(fetch(port_, "GET", "/index.html").status, 200);
  verbd_->signal(SIGTERM);
  EXPECT_EQ(verbd_->exit_code(), 0);
  EXPECT_EQ(wait_for_log("worker [12] \\[server\\] info: stopped"), 2u);
  EXPECT_EQ(wait_for_log("\\[supervisor\\] info: stopped"), 1u);
}

}  // namespace
}  // namespace verbd::test
