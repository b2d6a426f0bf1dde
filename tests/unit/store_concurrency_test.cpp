// Many threads on one store, each backend: appends are neither lost nor
// interleaved, and readers see whole versions. CI also runs these under
// ThreadSanitizer (tests named StoreConcurrency).
#include "store/store.hpp"

#include "../support/backend_test.hpp"
#include "../support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <sstream>
#include <thread>

namespace verbd::store {
namespace {

using verbd::testing::TempFolder;

using StoreConcurrency = verbd::testing::BackendTest;

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
  std::atomic<int> torn{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w)
    threads.emplace_back([&, w] {
      for (int n = 0; n < 200; ++n) {
        Entry entry;
        bool created;
        store_->write({"/doc", (n + w) % 2 ? a : b, {}, WriteMode::replace}, entry, created);
        store_->write({"/dir/" + std::to_string(n % 5), a, {}, WriteMode::replace}, entry, created);
        if (n % 20 == 0) store_->remove("/dir/");
      }
    });
  for (int r = 0; r < 4; ++r)
    threads.emplace_back([&] {
      while (running) {
        std::string bytes, lines;
        Entry entry;
        if (store_->read("/doc", &bytes, entry) == VERBD_OK && bytes != a && bytes != b) ++torn;
        if (store_->read("/doc", &bytes, entry) == VERBD_OK && entry.size != 4096) ++torn;
        store_->list("/dir/", lines);
        store_->stat("/dir/3", entry);
      }
    });
  threads[0].join();
  threads[1].join();
  running = false;
  for (std::size_t i = 2; i < threads.size(); ++i) threads[i].join();
  EXPECT_EQ(torn.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConcurrency, ::testing::Values("files", "memory"));

}  // namespace
}  // namespace verbd::store
