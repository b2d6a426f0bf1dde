// What the stores offer WebDAV (SDK 1.4), run against every backend:
// collections made one at a time, copies and moves with their media types
// and dead properties, and the lock table.
#include "log/log.hpp"
#include "store/lock_table.hpp"
#include "store/store.hpp"

#include <verbd/detail/store_rules.hpp>

#include "../../support/backend_test.hpp"
#include "../../support/store_text.hpp"
#include "../../support/temp_folder.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace verbd::store {
namespace {

class WebdavStoreTest : public verbd::test::BackendTest {
 protected:
  Status put(std::string_view path, std::string_view body, std::string_view type = {}) {
    return verbd::test::write_text(*store_, path, body, type);
  }
  std::string get(std::string_view path) { return verbd::test::text_at(*store_, path); }
  Status transfer(std::string_view from, std::string_view to, std::uint32_t flags, bool move,
                  bool* created = nullptr) {
    bool was_created = false;
    Status status = store_->transfer(from, to, flags, move, was_created);
    if (created) *created = was_created;
    return status;
  }
  Status set(std::string_view path, std::string_view name, std::string_view value) {
    PropertyChange change{name, value, false};
    return store_->change_properties(path, std::span(&change, 1));
  }
  Properties properties(std::string_view path) {
    Properties found;
    EXPECT_EQ(store_->properties(path, found), VERBD_OK) << path;
    return found;
  }
  std::string media_type(std::string_view path) {
    Entry entry;
    store_->stat(path, entry);
    return entry.media_type;
  }
};

TEST_P(WebdavStoreTest, MakesACollectionOnlyInAnExistingOne) {
  EXPECT_EQ(store_->make_collection("/a/"), VERBD_OK);
  EXPECT_EQ(store_->make_collection("/a/"), VERBD_EXISTS);
  EXPECT_EQ(store_->make_collection("/x/y/"), VERBD_NO_PARENT);
  ASSERT_EQ(put("/f", "file"), VERBD_OK);
  EXPECT_EQ(store_->make_collection("/f/"), VERBD_EXISTS);
  EXPECT_EQ(store_->make_collection("/f/g/"), VERBD_NO_PARENT);
  std::string lines;
  ASSERT_EQ(store_->list("/a/", lines), VERBD_OK);
  EXPECT_EQ(lines, "");
}

TEST_P(WebdavStoreTest, CopiesAResourceWithItsTypeAndProperties) {
  ASSERT_EQ(put("/src", "bytes", "text/x-mine"), VERBD_OK);
  ASSERT_EQ(set("/src", "{urn:a}colour", "<b xmlns=\"urn:b\">blue</b>"), VERBD_OK);
  bool created = false;
  ASSERT_EQ(transfer("/src", "/dst", 0, false, &created), VERBD_OK);
  EXPECT_TRUE(created);
  EXPECT_EQ(get("/dst"), "bytes");
  EXPECT_EQ(get("/src"), "bytes");
  EXPECT_EQ(media_type("/dst"), "text/x-mine");
  EXPECT_EQ(properties("/dst"), (Properties{{"{urn:a}colour", "<b xmlns=\"urn:b\">blue</b>"}}));
  Entry source, copy;
  store_->stat("/src", source);
  store_->stat("/dst", copy);
  EXPECT_NE(std::string(source.etag), std::string(copy.etag)) << "a copy is another resource";
}

TEST_P(WebdavStoreTest, OverwriteDecidesWhatHappensToTheDestination) {
  ASSERT_EQ(put("/src", "new"), VERBD_OK);
  ASSERT_EQ(put("/dst", "old"), VERBD_OK);
  EXPECT_EQ(transfer("/src", "/dst", 0, false), VERBD_EXISTS);
  EXPECT_EQ(get("/dst"), "old");
  bool created = true;
  EXPECT_EQ(transfer("/src", "/dst", VERBD_TRANSFER_OVERWRITE, false, &created), VERBD_OK);
  EXPECT_FALSE(created);
  EXPECT_EQ(get("/dst"), "new");
  // A resource over a collection: the collection goes, members and all.
  ASSERT_EQ(put("/coll/member", "m"), VERBD_OK);
  EXPECT_EQ(transfer("/src", "/coll", VERBD_TRANSFER_OVERWRITE, false), VERBD_OK);
  EXPECT_EQ(get("/coll"), "new");
  EXPECT_EQ(get("/coll/member"), "status " + std::to_string(VERBD_NOT_FOUND));
}

TEST_P(WebdavStoreTest, CopiesACollectionDeeplyOrShallowly) {
  ASSERT_EQ(put("/c/a", "1"), VERBD_OK);
  ASSERT_EQ(put("/c/sub/b", "2"), VERBD_OK);
  ASSERT_EQ(set("/c/sub/", "{urn:a}p", "v"), VERBD_OK);
  ASSERT_EQ(transfer("/c/", "/deep/", 0, false), VERBD_OK);
  EXPECT_EQ(get("/deep/a"), "1");
  EXPECT_EQ(get("/deep/sub/b"), "2");
  EXPECT_EQ(properties("/deep/sub/"), (Properties{{"{urn:a}p", "v"}}));
  ASSERT_EQ(transfer("/c/", "/shallow/", VERBD_TRANSFER_SHALLOW, false), VERBD_OK);
  std::string lines;
  ASSERT_EQ(store_->list("/shallow/", lines), VERBD_OK);
  EXPECT_EQ(lines, "");
}

TEST_P(WebdavStoreTest, MovesWithPropertiesAndLeavesNothingBehind) {
  ASSERT_EQ(put("/m/a", "1", "text/x-a"), VERBD_OK);
  ASSERT_EQ(set("/m/a", "{urn:a}p", "v"), VERBD_OK);
  bool created = false;
  ASSERT_EQ(transfer("/m/", "/n/", 0, true, &created), VERBD_OK);
  EXPECT_TRUE(created);
  EXPECT_EQ(get("/n/a"), "1");
  EXPECT_EQ(media_type("/n/a"), "text/x-a");
  EXPECT_EQ(properties("/n/a"), (Properties{{"{urn:a}p", "v"}}));
  Entry gone;
  EXPECT_EQ(store_->stat("/m/", gone), VERBD_NOT_FOUND);
}

TEST_P(WebdavStoreTest, RefusesTransfersIntoThemselvesAndWithoutAParent) {
  ASSERT_EQ(put("/c/a", "1"), VERBD_OK);
  EXPECT_EQ(transfer("/c/", "/c/inner/", 0, false), VERBD_BAD_ARGUMENT);
  EXPECT_EQ(transfer("/c/", "/c/", VERBD_TRANSFER_OVERWRITE, true), VERBD_BAD_ARGUMENT);
  EXPECT_EQ(transfer("/c/a", "/none/a", 0, false), VERBD_NO_PARENT);
  EXPECT_EQ(transfer("/missing", "/x", 0, true), VERBD_NOT_FOUND);
}

TEST_P(WebdavStoreTest, PropertiesChangeAllOrNothingAndSurviveAPut) {
  ASSERT_EQ(put("/r", "v1"), VERBD_OK);
  ASSERT_EQ(set("/r", "{urn:a}one", "1"), VERBD_OK);
  PropertyChange changes[] = {{"{urn:a}two", "2", false}, {"not clark", "x", false}};
  EXPECT_EQ(store_->change_properties("/r", changes), VERBD_BAD_ARGUMENT);
  EXPECT_EQ(properties("/r"), (Properties{{"{urn:a}one", "1"}})) << "nothing of a refused change";
  ASSERT_EQ(put("/r", "v2"), VERBD_OK);
  EXPECT_EQ(properties("/r"), (Properties{{"{urn:a}one", "1"}})) << "a PUT keeps dead properties";
  PropertyChange removal{"{urn:a}one", {}, true};
  ASSERT_EQ(store_->change_properties("/r", std::span(&removal, 1)), VERBD_OK);
  EXPECT_TRUE(properties("/r").empty());
  ASSERT_EQ(store_->remove("/r"), VERBD_OK);
  ASSERT_EQ(put("/r", "v3"), VERBD_OK);
  EXPECT_TRUE(properties("/r").empty()) << "properties go with their resource";
}

TEST_P(WebdavStoreTest, AResourceKeepsItsCreationTimeAcrossWritesAndACopyHasItsOwn) {
  ASSERT_EQ(put("/r", "v1"), VERBD_OK);
  Entry first;
  ASSERT_EQ(store_->stat("/r", first), VERBD_OK);
  ASSERT_EQ(store_->make_collection("/c/"), VERBD_OK);
  Entry collection;
  ASSERT_EQ(store_->stat("/c/", collection), VERBD_OK);
  if (GetParam() == "memory") {
    EXPECT_GT(first.created_unix, 0);
    EXPECT_GT(collection.created_unix, 0);
    EXPECT_EQ(collection.modified_unix, collection.created_unix);
  }
  if (first.created_unix == 0) GTEST_SKIP() << "this filesystem records no birth time";
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ASSERT_EQ(put("/r", "v2"), VERBD_OK);
  ASSERT_EQ(put("/r", "v3"), VERBD_OK);
  Entry later;
  ASSERT_EQ(store_->stat("/r", later), VERBD_OK);
  EXPECT_EQ(later.created_unix, first.created_unix);
  ASSERT_EQ(transfer("/r", "/copy", 0, false), VERBD_OK);
  Entry copy;
  ASSERT_EQ(store_->stat("/copy", copy), VERBD_OK);
  EXPECT_GT(copy.created_unix, first.created_unix);
}

TEST_P(WebdavStoreTest, TooManyPropertyBytesAreNoSpace) {
  ASSERT_EQ(put("/r", "v"), VERBD_OK);
  std::string huge(verbd::detail::max_property_bytes + 1, 'x');
  EXPECT_EQ(set("/r", "{urn:a}big", huge), VERBD_NO_SPACE);
  EXPECT_TRUE(properties("/r").empty());
}

TEST_P(WebdavStoreTest, LocksConflictByScopeAndDepth) {
  LockTable& locks = store_->locks();
  Lock exclusive{{}, "/a/", true, true, "<owner/>"};
  ASSERT_EQ(locks.acquire(exclusive, 60), VERBD_OK);
  EXPECT_TRUE(exclusive.token.starts_with("urn:uuid:"));
  Lock below{{}, "/a/b", false, false, {}};
  EXPECT_EQ(locks.acquire(below, 60), VERBD_LOCKED) << "Depth infinity covers what is below";
  Lock elsewhere{{}, "/b", true, false, {}};
  EXPECT_EQ(locks.acquire(elsewhere, 60), VERBD_OK);
  ASSERT_EQ(locks.affecting("/a/b/c").size(), 1u);
  EXPECT_EQ(locks.affecting("/a").front().token, exclusive.token) << "a collection named without its '/'";
  EXPECT_EQ(locks.release("/a/b", "urn:uuid:nonesuch"), VERBD_NOT_FOUND);
  EXPECT_EQ(locks.release("/a/b", exclusive.token), VERBD_OK) << "released through a path it covers";
  Lock shared1{{}, "/s", false, false, {}}, shared2{{}, "/s", false, false, {}},
      sole{{}, "/s", true, false, {}};
  EXPECT_EQ(locks.acquire(shared1, 60), VERBD_OK);
  EXPECT_EQ(locks.acquire(shared2, 60), VERBD_OK);
  EXPECT_EQ(locks.acquire(sole, 60), VERBD_LOCKED);
}

TEST_P(WebdavStoreTest, LocksGoWithWhatTheyLockedAndExpire) {
  ASSERT_EQ(put("/gone", "x"), VERBD_OK);
  ASSERT_EQ(put("/moved", "x"), VERBD_OK);
  Lock on_gone{{}, "/gone", true, false, {}}, on_moved{{}, "/moved", true, false, {}};
  ASSERT_EQ(store_->locks().acquire(on_gone, 60), VERBD_OK);
  ASSERT_EQ(store_->locks().acquire(on_moved, 60), VERBD_OK);
  ASSERT_EQ(store_->remove("/gone"), VERBD_OK);
  ASSERT_EQ(transfer("/moved", "/there", 0, true), VERBD_OK);
  EXPECT_TRUE(store_->locks().affecting("/", true).empty());
  Lock brief{{}, "/brief", true, false, {}};
  ASSERT_EQ(store_->locks().acquire(brief, 1), VERBD_OK);
  Lock renewed;
  EXPECT_EQ(store_->locks().refresh("/brief", brief.token, 1, renewed), VERBD_OK);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  EXPECT_TRUE(store_->locks().affecting("/brief").empty()) << "a lock ends at its timeout";
}

// admit() runs a change only when no lock of another protects it.
TEST_P(WebdavStoreTest, AChangeIsAdmittedPastItsOwnLocksOnly) {
  LockTable& locks = store_->locks();
  ASSERT_EQ(put("/d/old", "x"), VERBD_OK);
  ASSERT_EQ(put("/t/deep", "x"), VERBD_OK);
  Lock tree{{}, "/a/", true, true, {}}, members{{}, "/d/", true, false, {}},
      deep{{}, "/t/deep", true, false, {}};
  ASSERT_EQ(locks.acquire(tree, 60), VERBD_OK);
  ASSERT_EQ(locks.acquire(members, 60), VERBD_OK);
  ASSERT_EQ(locks.acquire(deep, 60), VERBD_OK);
  auto exists = [&](std::string_view path) {
    Entry entry;
    return store_->stat(path, entry) == VERBD_OK;
  };
  auto admitted = [&](Change change, std::vector<std::string> tokens = {}) {
    bool ran = false;
    Lock met;
    Status status = locks.admit(
        std::span(&change, 1), tokens, exists,
        [&] {
          ran = true;
          return VERBD_OK;
        },
        met);
    EXPECT_EQ(ran, status == VERBD_OK);
    return status == VERBD_OK ? std::string("admitted") : "met " + met.root;
  };
  using M = Change::Membership;
  EXPECT_EQ(admitted({"/a/x", false, M::if_new}), "met /a/");
  EXPECT_EQ(admitted({"/a/x", false, M::if_new}, {tree.token}), "admitted");
  EXPECT_EQ(admitted({"/d/new", false, M::if_new}), "met /d/") << "a new member of a locked collection";
  EXPECT_EQ(admitted({"/d/old", false, M::if_new}), "admitted") << "a member replaced: no new member";
  EXPECT_EQ(admitted({"/d/old", true, M::yes}), "met /d/") << "a member removed";
  EXPECT_EQ(admitted({"/t", true, M::yes}), "met /t/deep") << "a collection named without its '/'";
  EXPECT_EQ(admitted({"/elsewhere", false, M::if_new}), "admitted");
}

// No lock is granted between admit()'s check and the end of its change:
// acquire() waits for the change (files, memory), or, for a table shared
// through Redis, the store finds the table changed and the change is checked
// again, and refused.
TEST_P(WebdavStoreTest, NoLockIsGrantedWhileAnAdmittedChangeRuns) {
  LockTable& locks = store_->locks();
  std::atomic<bool> change_began{false}, granted{false};
  std::thread locker([&] {
    while (!change_began) std::this_thread::yield();
    Lock lock{{}, "/r", true, false, {}};
    EXPECT_EQ(locks.acquire(lock, 60), VERBD_OK);
    granted = true;
  });
  Change change{"/r", false, Change::Membership::if_new};
  bool granted_before_the_write = false;
  Lock met;
  Status status = locks.admit(
      std::span(&change, 1), {}, [](std::string_view) { return false; },
      [&] {
        change_began = true;
        for (int i = 0; i < 50 && !granted; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        granted_before_the_write = granted;
        return put("/r", "changed");
      },
      met);
  locker.join();
  EXPECT_TRUE(granted);
  if (GetParam() == "redis") {
    EXPECT_TRUE(granted_before_the_write);
    EXPECT_EQ(status, VERBD_LOCKED);
    EXPECT_EQ(met.root, "/r");
    EXPECT_EQ(get("/r"), "status " + std::to_string(VERBD_NOT_FOUND)) << "the change was not made";
  } else {
    EXPECT_FALSE(granted_before_the_write) << "acquire() waited for the change";
    EXPECT_EQ(status, VERBD_OK);
    EXPECT_EQ(get("/r"), "changed");
  }
}

// A second store on the same root or Redis keys stands for another worker
// process or host: what it does to the locks binds this one's changes at
// once, whatever this one read of the table before.
TEST_P(WebdavStoreTest, LocksTakenAndReleasedElsewhereBindAtOnce) {
  if (GetParam() == "memory") GTEST_SKIP() << "a memory store is one process's own";
  auto elsewhere = make_store(config_, false);
  auto admit_put = [&](std::string_view path) {
    Change change{path, false, Change::Membership::if_new};
    Lock met;
    return store_->locks().admit(std::span(&change, 1), {}, [](std::string_view) { return false; },
                                 [&] { return put(path, "x"); }, met);
  };
  Lock mine{{}, "/r", true, false, {}};
  ASSERT_EQ(store_->locks().acquire(mine, 60), VERBD_OK);
  EXPECT_EQ(admit_put("/r"), VERBD_LOCKED);
  ASSERT_EQ(elsewhere->locks().release("/r", mine.token), VERBD_OK);
  EXPECT_EQ(admit_put("/r"), VERBD_OK) << "released elsewhere";

  Lock theirs{{}, "/s", true, false, {}};
  ASSERT_EQ(elsewhere->locks().acquire(theirs, 60), VERBD_OK);
  EXPECT_EQ(admit_put("/s"), VERBD_LOCKED) << "taken elsewhere";
  EXPECT_EQ(get("/s"), "status " + std::to_string(VERBD_NOT_FOUND));
}

// Changes that overlap without a pause do not hold a LOCK off until they
// stop: a waiting acquire() goes before the changes that come after it.
TEST_P(WebdavStoreTest, AStreamOfChangesDoesNotHoldALockOff) {
  LockTable& locks = store_->locks();
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int i = 0; i < 4; ++i)
    writers.emplace_back([&, i] {
      std::string path = "/w" + std::to_string(i);
      Change change{path, false, Change::Membership::if_new};
      Lock met;
      while (!stop)
        locks.admit(
            std::span(&change, 1), {}, [](std::string_view) { return false; },
            [&] {
              std::this_thread::sleep_for(std::chrono::milliseconds(20));
              return put(path, "x");
            },
            met);
    });
  // The writers stop after 5 s whatever happens: then a LOCK held off
  // until they stop fails the test rather than hanging it.
  std::thread deadline([&] {
    for (int i = 0; i < 500 && !stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    stop = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Lock lock{{}, "/elsewhere", true, false, {}};
  EXPECT_EQ(locks.acquire(lock, 60), VERBD_OK);
  bool granted_while_writing = !stop;
  stop = true;
  deadline.join();
  for (auto& writer : writers) writer.join();
  EXPECT_TRUE(granted_while_writing);
}

INSTANTIATE_TEST_SUITE_P(Backends, WebdavStoreTest, ::testing::Values("files", "memory", "redis"));

// The files store's table is one file: what one process (here, one more
// open of the file) takes, the others see, and it outlives the table.
TEST(FilesLockTable, IsSharedThroughItsFileAndOutlivesARestart) {
  verbd::test::TempFolder folder;
  Fd dir(::open(folder.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  LockTable first(dir.get());
  auto second = std::make_unique<LockTable>(dir.get());
  Lock lock{{}, "/shared", true, false, "<owner xmlns=\"DAV:\">me\ttab\nline</owner>"};
  ASSERT_EQ(first.acquire(lock, 600), VERBD_OK);
  Lock rival{{}, "/shared", true, false, {}};
  EXPECT_EQ(second->acquire(rival, 600), VERBD_LOCKED);
  second = std::make_unique<LockTable>(dir.get());  // a restart
  auto seen = second->affecting("/shared");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen.front().token, lock.token);
  EXPECT_EQ(seen.front().owner, lock.owner);
  ASSERT_EQ(second->release("/shared", lock.token), VERBD_OK);
  EXPECT_TRUE(first.affecting("/shared").empty());
}

// The table's file removed while verbd runs (someone cleaning the scratch
// folder): a change that needs a new hold on it is refused, and the log
// says what to do, rather than a process making a table of its own.
TEST(FilesLockTable, ItsFileRemovedWhileRunningRefusesChangesAndSaysToRestart) {
  verbd::test::TempFolder folder;
  Fd dir(::open(folder.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  LockTable table(dir.get());
  ASSERT_EQ(::unlinkat(dir.get(), LockTable::file_name, 0), 0);
  std::ostringstream lines;
  auto& log = verbd::log::get("store");
  log.sinks().push_back(std::make_shared<spdlog::sinks::ostream_sink_st>(lines));
  Change change{"/r", false, Change::Membership::if_new};
  bool ran = false;
  auto make = [&] {
    ran = true;
    return VERBD_OK;
  };
  auto absent = [](std::string_view) { return false; };
  Lock met;
  EXPECT_EQ(table.admit(std::span(&change, 1), {}, absent, make, met), VERBD_IO_ERROR);
  log.sinks().pop_back();
  EXPECT_FALSE(ran);
  EXPECT_NE(lines.str().find("removed while verbd ran: restart verbd"), std::string::npos) << lines.str();
  LockTable restarted(dir.get());  // a restart makes the file anew
  EXPECT_EQ(restarted.admit(std::span(&change, 1), {}, absent, make, met), VERBD_OK);
  EXPECT_TRUE(ran);
}

}  // namespace
}  // namespace verbd::store
