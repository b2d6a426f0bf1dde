// What "acknowledged" means for the files store: kill -9 verbd while eight
// connections write, restart it, and find every write that was answered 2xx,
// whole; and what it means for readers and concurrent writers.
#include "../support/http_client.hpp"
#include "../support/plugin_folder.hpp"
#include "../support/process.hpp"
#include "../support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

namespace verbd::test {
namespace {

using namespace std::chrono_literals;

class Durability : public ::testing::Test {
 protected:
  Durability() {
    folder_.write("verbd.toml",
                  "[server]\nport = 0\nworkers = 2\n[plugins]\ndirectory = \"" +
                      std::string(VERBD_PLUGIN_DIR) +
                      "\"\nwatch = false\n[store]\nroot = \"data\"\nfsync = true\n[log]\naccess = false\n");
  }
  std::unique_ptr<Process> start() {
    auto verbd = std::make_unique<Process>(
        folder_, VERBD_BINARY, std::vector<std::string>{"--config", (folder_ / "verbd.toml").string()});
    port_ = verbd->port();
    EXPECT_NE(port_, 0) << verbd->err();
    return verbd;
  }

  TempFolder folder_;
  std::uint16_t port_ = 0;
};

// What one writer had acknowledged when the server died.
struct Acknowledged {
  std::vector<std::string> resources;  // PUT paths, each written once, body = path
  int last_line = -1;                  // the last POSTed line answered 2xx
};

// Writes until the connection fails, or `going` turns false.
void write_until_killed(std::uint16_t port, int writer, int round, Acknowledged& acked,
                        const std::atomic<bool>* going = nullptr) {
  try {
    Client client(port);
    for (int n = 0; going == nullptr || *going; ++n) {
      std::string path =
          "/r" + std::to_string(round) + "/w" + std::to_string(writer) + "/" + std::to_string(n);
      if (client.request("PUT", path, path + std::string(500, '.')).status != 201) return;
      acked.resources.push_back(path);
      std::string line = std::to_string(n) + " " + std::string(100, char('a' + writer)) + "\n";
      int status =
          client.request("POST", "/r" + std::to_string(round) + "/log" + std::to_string(writer), line).status;
      if (status != 200 && status != 201) return;
      acked.last_line = n;
    }
  } catch (const std::exception&) {  // the server is gone
  }
}

TEST_F(Durability, EveryAcknowledgedWriteSurvivesKill9) {
  std::mt19937 random(std::random_device{}());
  for (int round = 0; round < 20; ++round) {
    auto verbd = start();
    ASSERT_NE(port_, 0);
    std::vector<Acknowledged> acked(8);
    std::vector<std::thread> writers;
    for (int w = 0; w < 8; ++w)
      writers.emplace_back(write_until_killed, port_, w, round, std::ref(acked[w]), nullptr);
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + random() % 250));
    verbd->signal(SIGKILL);
    verbd->exit_code();
    for (auto& writer : writers) writer.join();

    auto again = start();  // a fresh process on the same data folder
    for (int w = 0; w < 8; ++w) {
      for (const auto& path : acked[w].resources) {
        Reply reply = fetch(port_, "GET", path);
        ASSERT_EQ(reply.status, 200) << "round " << round << ": acknowledged " << path << " is gone";
        ASSERT_EQ(reply.body, path + std::string(500, '.'))
            << "round " << round << ": " << path << " is not whole";
      }
      if (acked[w].last_line < 0) continue;
      std::istringstream log(
          fetch(port_, "GET", "/r" + std::to_string(round) + "/log" + std::to_string(w)).body);
      std::string number, letters;
      int expected = 0;
      while (log >> number >> letters) {  // every line whole and in order; one unacknowledged may follow
        ASSERT_EQ(number, std::to_string(expected++)) << "round " << round;
        ASSERT_EQ(letters, std::string(100, char('a' + w))) << "round " << round;
      }
      EXPECT_GE(expected - 1, acked[w].last_line) << "round " << round << ": acknowledged lines lost";
      EXPECT_LE(expected - 1, acked[w].last_line + 1) << "round " << round;
    }
    again->signal(SIGTERM);
    EXPECT_EQ(again->exit_code(), 0);
    EXPECT_TRUE(scratch_leftovers(folder_ / "data").empty());
  }
}

// The same promise when a plugin crashes worker processes in the middle of
// writes, and the server itself goes on: every write answered 2xx is there,
// whole, and an interrupted one left the old version or the new, and no
// scratch file.
TEST_F(Durability, EveryAcknowledgedWriteSurvivesPluginCrashes) {
  stock(folder_, {"crash"}, {"get", "head", "put", "post", "delete"});
  folder_.write("verbd.toml",
                "[server]\nport = 0\nworkers = 2\n[plugins]\ndirectory = \"plugins\"\nwatch = false\n"
                "quarantine_after = 1000\n[store]\nroot = \"data\"\nfsync = true\n[log]\naccess = false\n");
  auto verbd = start();
  ASSERT_NE(port_, 0);
  std::mt19937 random(std::random_device{}());
  std::vector<Acknowledged> acked(8);
  std::atomic<bool> crashing{true};
  std::vector<std::thread> writers;
  for (int w = 0; w < 8; ++w)
    writers.emplace_back([&, w] {
      for (int connection = 0; crashing; ++connection)  // a new connection after each crash
        write_until_killed(port_, w, connection, acked[w], &crashing);
    });
  for (int crash = 0; crash < 10; ++crash) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + random() % 80));
    try {
      fetch(port_, "CRASH", "/null");
    } catch (const std::exception&) {  // the worker died: expected
    }
  }
  crashing = false;
  for (auto& writer : writers) writer.join();

  EXPECT_EQ(verbd->err().find("verbd: "), std::string::npos) << verbd->err();
  for (int w = 0; w < 8; ++w)
    for (const auto& path : acked[w].resources) {
      Reply reply = fetch(port_, "GET", path);
      ASSERT_EQ(reply.status, 200) << "acknowledged " << path << " is gone";
      ASSERT_EQ(reply.body, path + std::string(500, '.')) << path << " is not whole";
    }
  verbd->signal(SIGTERM);
  EXPECT_EQ(verbd->exit_code(), 0);
  EXPECT_TRUE(scratch_leftovers(folder_ / "data").empty());
  std::size_t restarts = 0;
  for (auto at = verbd->err().find("restarted as pid"); at != std::string::npos;
       at = verbd->err().find("restarted as pid", at + 1))
    ++restarts;
  EXPECT_EQ(restarts, 10u) << verbd->err();
}

TEST_F(Durability, ConcurrentAppendsNeverInterleaveOrGetLost) {
  auto verbd = start();
  std::vector<std::thread> writers;
  std::atomic<int> acked{0};
  for (int w = 0; w < 8; ++w)
    writers.emplace_back([&, w] {
      Client client(port_);
      for (int n = 0; n < 50; ++n) {
        std::string line =
            std::to_string(w) + ":" + std::to_string(n) + ":" + std::string(200, char('a' + w)) + "\n";
        int status = client.request("POST", "/shared", line).status;
        if (status == 200 || status == 201) ++acked;
      }
    });
  for (auto& writer : writers) writer.join();
  EXPECT_EQ(acked.load(), 400);
  std::istringstream body(fetch(port_, "GET", "/shared").body);
  std::set<std::string> seen;
  for (std::string line; std::getline(body, line);) {
    auto first = line.find(':'), second = line.find(':', first + 1);
    ASSERT_NE(second, std::string::npos) << line;
    int writer = std::stoi(line.substr(0, first));
    ASSERT_EQ(line.substr(second + 1), std::string(200, char('a' + writer)))
        << "an interleaved line: " << line;
    seen.insert(line.substr(0, second));
  }
  EXPECT_EQ(seen.size(), 400u);
}

TEST_F(Durability, AReaderSeesTheOldOrTheNewBodyNeverAMix) {
  auto verbd = start();
  const std::string a(64 * 1024, 'A'), b(64 * 1024, 'B');
  ASSERT_EQ(fetch(port_, "PUT", "/racy", a).status, 201);
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    Client client(port_);
    for (int n = 0; n < 100; ++n) client.request("PUT", "/racy", n % 2 ? a : b);
    writing = false;
  });
  int mixed = 0, reads = 0;
  Client reader(port_);
  while (writing) {
    std::string body = reader.request("GET", "/racy").body;
    ++reads;
    if (body != a && body != b) ++mixed;
  }
  writer.join();
  EXPECT_EQ(mixed, 0) << "of " << reads << " reads";
  EXPECT_GT(reads, 0);
}

// Each worker process keeps small resources in memory and, for recheck_ms,
// serves them without looking at their files; a write through any process
// must still be seen by the very next request, whichever process answers.
TEST_F(Durability, AWriteIsSeenAtOnceByEveryProcess) {
  folder_.write("verbd.toml", "[server]\nport = 0\nworkers = 2\nprocesses = 2\n[plugins]\ndirectory = \"" +
                                  std::string(VERBD_PLUGIN_DIR) +
                                  "\"\nwatch = false\n[store]\nroot = \"data\"\nfsync = false\n"
                                  "recheck_ms = 60000\n[log]\naccess = false\n");
  auto verbd = start();
  ASSERT_NE(port_, 0);
  for (int version = 1; version <= 10; ++version) {
    std::string body = "version " + std::to_string(version);
    ASSERT_EQ(fetch(port_, "PUT", "/page.txt", body).status, version == 1 ? 201 : 204);
    for (int reader = 0; reader < 8; ++reader)  // new connections, spread over both processes
      ASSERT_EQ(fetch(port_, "GET", "/page.txt").body, body) << "reader " << reader;
    // Settled now, so each process keeps this version and then trusts it.
    std::this_thread::sleep_for(150ms);
    for (int reader = 0; reader < 16; ++reader) ASSERT_EQ(fetch(port_, "GET", "/page.txt").body, body);
  }
}

// The scratch folder's shared files removed while verbd runs (someone
// cleaning it): processes started afterwards (an isolated plugin's again, a
// worker's replacement) still share them with those started before, and
// the supervisor says what happened, naming the file.
TEST_F(Durability, ScratchFilesRemovedWhileVerbdRunsStaySharedByEveryProcess) {
  folder_.write("verbd.toml",
                "[server]\nport = 0\nworkers = 1\n[plugins]\ndirectory = \"" +
                    std::string(VERBD_DAV_PLUGIN_DIR) +
                    "\"\nwatch = false\n[plugins.put]\nisolation = \"process\"\n[store]\nroot = "
                    "\"data\"\nrecheck_ms = 60000\n[log]\naccess = false\n");
  auto verbd = start();
  ASSERT_NE(port_, 0);
  Reply lock = fetch(port_, "LOCK", "/held",
                     "<?xml version=\"1.0\"?><D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/>"
                     "</D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>");
  ASSERT_EQ(lock.status, 201);
  std::string token(lock.header("Lock-Token"));
  ASSERT_EQ(fetch(port_, "PUT", "/cached", "old").status, 201);
  std::this_thread::sleep_for(300ms);  // settled, so the worker's read cache keeps it
  for (int i = 0; i < 2; ++i) ASSERT_EQ(fetch(port_, "GET", "/cached").body, "old");  // kept, then looked at

  for (const char* name : {"locks", "dav-locks", "writes"})
    ASSERT_TRUE(std::filesystem::remove(folder_ / "data/.verbd-tmp" / name)) << name;
  EXPECT_TRUE(
      verbd->err_shows("\\.verbd-tmp/writes was removed while verbd ran: its processes go on sharing "
                       "the count of writes that read caches check through the file they opened, "
                       "until they stop; the next start makes a new one"))
      << verbd->err();

  // The PUT plugin's process, started again after the removal, counts its
  // write where the worker's read cache looks.
  auto isolated = plugin_processes_below(verbd->pid());
  ASSERT_EQ(isolated.size(), 1u);
  ASSERT_EQ(::kill(isolated.front(), SIGKILL), 0);
  int put = 502;
  for (int tries = 0; put == 502 && tries < 3; ++tries) put = fetch(port_, "PUT", "/cached", "new").status;
  EXPECT_EQ(put, 204);
  EXPECT_NE(plugin_processes_below(verbd->pid()), isolated);
  EXPECT_EQ(fetch(port_, "GET", "/cached").body, "new");

  // A worker started after the removal sees the lock taken before it.
  std::string supervisor = std::to_string(verbd->pid()), worker;
  std::istringstream(slurp("/proc/" + supervisor + "/task/" + supervisor + "/children")) >> worker;
  ASSERT_FALSE(worker.empty());
  ASSERT_EQ(::kill(std::stoi(worker), SIGKILL), 0);
  ASSERT_TRUE(verbd->err_shows("worker 1 \\(pid " + worker + "\\) killed by SIGKILL .*restarted as pid"))
      << verbd->err();
  EXPECT_EQ(fetch(port_, "PUT", "/held", "x").status, 423);
  EXPECT_EQ(fetch(port_, "PUT", "/held", "x", {"If: (" + token + ")"}).status, 204);
  EXPECT_EQ(fetch(port_, "PUT", "/after", "y").status, 201);
}

// With fsync, a small write is made durable by a record in the journal
// (store/journal.hpp), and its file reaches the disk when the journal is
// settled. A machine that stops before then leaves the file without its
// bytes, stood in for here by emptying it after kill -9: the next start
// makes the write again from its record.
constexpr std::uintmax_t empty_journal = 12288;  // its header alone (store/journal.hpp)

TEST_F(Durability, AWriteWhoseFileLostItsBytesInACrashIsMadeAgainFromTheJournal) {
  auto journal = folder_ / "data/.verbd-tmp/journal";
  for (int attempt = 0;; ++attempt) {  // a settle every few seconds may come first on a slow machine
    ASSERT_LT(attempt, 5) << "the journal was settled before each kill";
    auto verbd = start();
    ASSERT_NE(port_, 0);
    std::string path = "/journaled/" + std::to_string(attempt);
    ASSERT_EQ(fetch(port_, "PUT", path, "made again").status, 201);
    verbd->signal(SIGKILL);
    verbd->exit_code();
    if (std::filesystem::file_size(journal) == empty_journal) continue;  // settled
    std::filesystem::resize_file(folder_ / ("data" + path), 0);
    auto again = start();
    EXPECT_EQ(fetch(port_, "GET", path).body, "made again");
    EXPECT_TRUE(
        again->err_shows("replayed the journal \\.verbd-tmp/journal: 1 records of 1 paths, the last of "
                         "each made again"))
        << again->err();
    EXPECT_EQ(std::filesystem::file_size(journal), empty_journal);
    return;
  }
}

// The supervisor settles the journal every few seconds, and once more at a
// clean stop, so that the files hold what the records say.
TEST_F(Durability, TheJournalIsSettledEveryFewSecondsAndAtAStop) {
  auto journal = folder_ / "data/.verbd-tmp/journal";
  auto verbd = start();
  ASSERT_NE(port_, 0);
  ASSERT_EQ(fetch(port_, "PUT", "/settled/while-running", "x").status, 201);
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::filesystem::file_size(journal) > empty_journal && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  EXPECT_EQ(std::filesystem::file_size(journal), empty_journal) << "not settled while running";
  for (int n = 0; std::filesystem::file_size(journal) == empty_journal && n < 5; ++n)
    ASSERT_EQ(fetch(port_, "PUT", "/settled/at-stop", std::to_string(n)).status, n == 0 ? 201 : 204);
  ASSERT_GT(std::filesystem::file_size(journal), empty_journal);
  verbd->signal(SIGTERM);
  EXPECT_EQ(verbd->exit_code(), 0);
  EXPECT_EQ(std::filesystem::file_size(journal), empty_journal) << "not settled at the stop";
}

// The journal removed while verbd runs would take with it, at the next
// start, the records a crash left: the supervisor finds it removed within a
// second, settles what it holds, and says so; writes go on without it.
TEST_F(Durability, TheJournalRemovedWhileVerbdRunsIsSettledAndSaysSo) {
  auto journal = folder_ / "data/.verbd-tmp/journal";
  auto verbd = start();
  ASSERT_NE(port_, 0);
  ASSERT_EQ(fetch(port_, "PUT", "/recorded", "x").status, 201);
  ASSERT_TRUE(std::filesystem::remove(journal));
  EXPECT_TRUE(
      verbd->err_shows("the journal \\.verbd-tmp/journal was removed or replaced while verbd ran: what it "
                       "recorded is made durable now"))
      << verbd->err();
  ASSERT_EQ(fetch(port_, "PUT", "/after", "y").status, 201);
  EXPECT_EQ(fetch(port_, "GET", "/after").body, "y");
  verbd->signal(SIGTERM);
  EXPECT_EQ(verbd->exit_code(), 0);
  auto again = start();
  ASSERT_EQ(fetch(port_, "PUT", "/journaled", "z").status, 201);
  EXPECT_GT(std::filesystem::file_size(journal), empty_journal);  // a new one, in use
  EXPECT_EQ(fetch(port_, "GET", "/recorded").body, "x");
}

// The scratch folder itself removed while verbd runs: each worker process
// makes it again when it next needs it, and says so; before, every write
// failed (404: its temporary file had no folder to go in).
TEST_F(Durability, TheScratchFolderRemovedWhileVerbdRunsIsMadeAgain) {
  auto verbd = start();
  ASSERT_NE(port_, 0);
  ASSERT_EQ(fetch(port_, "PUT", "/before/a", "x").status, 201);
  ASSERT_GT(std::filesystem::remove_all(folder_ / "data/.verbd-tmp"), 0u);
  for (int n = 0; n < 8; ++n)  // on new connections: both worker processes
    EXPECT_EQ(fetch(port_, "PUT", "/after/" + std::to_string(n), "y").status, 201) << n;
  EXPECT_EQ(fetch(port_, "DELETE", "/before/").status, 204);  // renamed into the scratch folder, then removed
  EXPECT_EQ(fetch(port_, "GET", "/after/7").body, "y");
  EXPECT_TRUE(verbd->err_shows("\\.verbd-tmp was removed while verbd ran: made again")) << verbd->err();
  EXPECT_TRUE(std::filesystem::is_directory(folder_ / "data/.verbd-tmp"));
}

// The scratch folder removed and a file put in its place: it cannot be
// made again, so writes and deletes of collections fail as the server's
// fault (500, and the log says why), not as the client's (404); once the
// file is gone, they succeed.
TEST_F(Durability, AScratchFolderThatCannotBeMadeAgainFailsWritesWith500) {
  auto verbd = start();
  ASSERT_NE(port_, 0);
  ASSERT_EQ(fetch(port_, "PUT", "/before", "x").status, 201);
  ASSERT_EQ(fetch(port_, "PUT", "/collection/member", "x").status, 201);
  ASSERT_GT(std::filesystem::remove_all(folder_ / "data/.verbd-tmp"), 0u);
  folder_.write("data/.verbd-tmp", "in the way");
  EXPECT_EQ(fetch(port_, "PUT", "/blocked", "y").status, 500);
  // A collection is renamed into the scratch folder before it is removed.
  EXPECT_EQ(fetch(port_, "DELETE", "/collection/").status, 500);
  EXPECT_TRUE(verbd->err_shows("rename /collection/ in \\.verbd-tmp: No such file or directory"))
      << verbd->err();
  EXPECT_TRUE(
      verbd->err_shows("\\.verbd-tmp was removed while verbd ran, and cannot be made again: Not a "
                       "directory"))
      << verbd->err();
  EXPECT_TRUE(verbd->err_shows("create /blocked in \\.verbd-tmp: No such file or directory")) << verbd->err();
  ASSERT_TRUE(std::filesystem::remove(folder_ / "data/.verbd-tmp"));
  for (int n = 0; n < 4; ++n)  // on new connections: both worker processes
    EXPECT_EQ(fetch(port_, "PUT", "/after/" + std::to_string(n), "z").status, 201) << n;
  EXPECT_EQ(fetch(port_, "GET", "/before").body, "x");
  EXPECT_EQ(fetch(port_, "DELETE", "/collection/").status, 204);
}

TEST_F(Durability, DeletingACollectionLeavesNoHalfState) {
  auto verbd = start();
  for (int n = 0; n < 200; ++n) ASSERT_EQ(fetch(port_, "PUT", "/big/" + std::to_string(n), "x").status, 201);
  std::atomic<bool> deleted{false};
  std::thread remover([&] {
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(fetch(port_, "DELETE", "/big/").status, 204);
    deleted = true;
  });
  Client reader(port_);
  int partial = 0;
  while (!deleted) {
    Reply listing = reader.request("GET", "/big/");
    std::size_t members = std::count(listing.body.begin(), listing.body.end(), '\n');
    if (listing.status == 200 && members != 200) ++partial;
  }
  remover.join();
  EXPECT_EQ(partial, 0);
  EXPECT_EQ(fetch(port_, "GET", "/big/").status, 404);
}

}  // namespace
}  // namespace verbd::test

namespace verbd::test {
namespace {

TEST_F(Durability, SigtermUnderLoadFinishesWhatItAcceptedAndExitsZero) {
  auto verbd = start();
  Client slow(port_);  // a request in flight when SIGTERM comes: its body is half sent
  slow.send("PUT /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello");
  Client idle(port_);
  ASSERT_EQ(idle.request("GET", "/").status, 200);

  std::atomic<bool> running{true};
  std::atomic<int> answered{0}, failed{0}, not_taken{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c)
    clients.emplace_back([&, c] {
      for (int n = 0; running; ++n) {
        try {
          Client client(port_);
          while (running) {
            Reply reply = client.request("PUT", "/c" + std::to_string(c) + "/" + std::to_string(n++), "data");
            (reply.status == 201 ? answered : failed)++;
            if (reply.header("Connection") == "close") break;
          }
        } catch (const ClosedBeforeReply&) {
          ++not_taken;  // closed while idle between requests: never accepted
        } catch (const std::exception& e) {
          if (std::string(e.what()).rfind("connect:", 0) == 0) break;  // no longer accepting
          ++failed;                                                    // a reply cut short
        }
      }
    });
  std::this_thread::sleep_for(300ms);
  verbd->signal(SIGTERM);
  std::this_thread::sleep_for(200ms);
  slow.send("world");
  Reply finished = slow.read_reply();
  EXPECT_EQ(finished.status, 201);
  EXPECT_EQ(finished.header("Connection"), "close");
  EXPECT_TRUE(idle.closed_by_server());
  EXPECT_EQ(verbd->exit_code(), 0);
  running = false;
  for (auto& client : clients) client.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(answered.load(), 0);
  std::cout << "[ figures  ] " << answered << " writes answered, " << failed << " failed, " << not_taken
            << " closed unanswered while idle, around a SIGTERM\n";
}

}  // namespace
}  // namespace verbd::test
