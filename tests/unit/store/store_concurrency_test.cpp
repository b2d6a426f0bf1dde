// Many threads on one store, each backend: appends are neither lost nor
// interleaved, and readers see whole versions. CI also runs these under
// ThreadSanitizer (tests named StoreConcurrency).
#include "store/store.hpp"

#include "../../support/backend_test.hpp"
#include "../../support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <sstream>
#include <thread>

namespace verbd::store {
namespace {

using verbd::test::TempFolder;

using StoreConcurrency = verbd::test::BackendTest;

TEST_P(StoreConcurrency, AppendsFromManyThreadsStayWhole) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int n = 0; n < 100; ++n) {
        std::string line =
            std::to_string(t) + ":" + std::to_string(n) + ":" + std::string(64, char('a' + t)) + "\n";
        Entry entry;
        bool created;
        EXPECT_EQ(store_->write({"/log", line, {}, WriteMode::append}, entry, created), VERBD_OK);
      }
    });
  for (auto& thread : threads) thread.join();
  std::string bytes;
  Entry entry;
  ASSERT_EQ(store_->read("/log", &bytes, entry), VERBD_OK);
  std::istringstream lines(bytes);
  std::set<std::string> seen;
  for (std::string line; std::getline(lines, line);) {
    auto first = line.find(':'), second = line.find(':', first + 1);
    ASSERT_NE(second, std::string::npos) << line;
    ASSERT_EQ(line.substr(second + 1), std::string(64, char('a' + std::stoi(line.substr(0, first))))) << line;
    seen.insert(line.substr(0, second));
  }
  EXPECT_EQ(seen.size(), 800u);
}

TEST_P(StoreConcurrency, ReadersSeeWholeVersionsWhileWritersReplaceAndRemove) {
  const std::string a(4096, 'A'), b(4096, 'B');
  std::atomic<bool> running{true};
  std::atomic<int> torn{0}, whole_reads{0}, failed_writes{0}, members_written{0}, odd_statuses{0};
  // A write into /dir/ may lose the race with the removal of /dir/ (404);
  // anything else is a failure of the store.
  auto expect_ok_or_gone = [&](Status status) {
    odd_statuses += status != VERBD_OK && status != VERBD_NOT_FOUND;
    return status == VERBD_OK;
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w)
    threads.emplace_back([&, w] {
      // At least 200 writes, and on until readers have read during them
      // (on a loaded machine the readers may start late).
      for (int n = 0; n < 200 || whole_reads.load() < 10; ++n) {
        Entry entry;
        bool created;
        failed_writes +=
            store_->write({"/doc", (n + w) % 2 ? a : b, {}, WriteMode::replace}, entry, created) != VERBD_OK;
        members_written += expect_ok_or_gone(
            store_->write({"/dir/" + std::to_string(n % 5), a, {}, WriteMode::replace}, entry, created));
        if (n % 20 == 0) expect_ok_or_gone(store_->remove("/dir/"));
      }
    });
  for (int r = 0; r < 4; ++r)
    threads.emplace_back([&] {
      while (running) {
        std::string bytes, lines;
        Entry entry;
        if (store_->read("/doc", &bytes, entry) == VERBD_OK) {
          ++whole_reads;
          if (bytes != a && bytes != b) ++torn;
          if (entry.size != 4096) ++torn;
        }
        expect_ok_or_gone(store_->list("/dir/", lines));
        expect_ok_or_gone(store_->stat("/dir/3", entry));
      }
    });
  threads[0].join();
  threads[1].join();
  running = false;
  for (std::size_t i = 2; i < threads.size(); ++i) threads[i].join();
  EXPECT_EQ(failed_writes.load(), 0);
  EXPECT_EQ(odd_statuses.load(), 0);
  EXPECT_GT(members_written.load(), 0);
  EXPECT_GT(whole_reads.load(), 0);
  EXPECT_EQ(torn.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConcurrency, ::testing::Values("files", "memory", "redis"));

}  // namespace
}  // namespace verbd::store
