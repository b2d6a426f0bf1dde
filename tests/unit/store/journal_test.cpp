// The journal of durable writes (store/journal.hpp), through the files
// store with `fsync = true`: what a crash can lose from the files is made
// again at the next start, and nothing else is.
//
// A machine that stops without writing its page cache is stood in for by
// emptying the resources' files by hand: what is on disk then is what a
// filesystem without the files' data would hold.
#include "store/journal.hpp"
#include "store/path.hpp"
#include "store/store.hpp"

#include "../../support/store_text.hpp"
#include "../../support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace verbd::store {
namespace {

using verbd::test::TempFolder;

class StoreJournal : public ::testing::Test {
 protected:
  // A store as a start opens it: it makes again what the journal holds.
  std::unique_ptr<Store> start(bool fsync = true) { return make_files_store({root(), fsync, true}); }

  std::filesystem::path root() const { return folder_ / "root"; }
  std::filesystem::path journal() const { return root() / reserved_folder / Journal::file_name; }
  std::uintmax_t journal_bytes() const { return std::filesystem::file_size(journal()); }
  static constexpr std::uintmax_t empty_journal = Journal::empty_size;  // its header alone

  // The size of the journal this process holds open after its name was
  // removed; 0 when it holds none.
  std::uintmax_t removed_journal_bytes() const {
    for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) {
      std::error_code error;
      auto target = std::filesystem::read_symlink(fd.path(), error);
      if (!error && target.string() == journal().string() + " (deleted)")
        return std::filesystem::file_size(fd.path());
    }
    return 0;
  }

  // As a crash before the page cache reached the disk leaves a file.
  void lose_bytes_of(const std::string& path) const {
    std::filesystem::resize_file(root() / path.substr(1), 0);
    ::removexattr((root() / path.substr(1)).c_str(), "user.verbd.media_type");
  }

  static Status put(Store& store, std::string_view path, std::string_view body, std::string_view type = {},
                    WriteMode mode = WriteMode::replace) {
    return verbd::test::write_text(store, path, body, type, mode);
  }
  static std::string read(Store& store, std::string_view path, std::string* media_type = nullptr) {
    return verbd::test::text_at(store, path, media_type);
  }

  TempFolder folder_;
};

TEST_F(StoreJournal, ASmallWriteIsRecordedAndMadeAgainAtTheNextStart) {
  {
    auto store = start();
    ASSERT_EQ(put(*store, "/kept/value", "42", "text/x-answer"), VERBD_OK);
    ASSERT_EQ(put(*store, "/kept/value", "43"), VERBD_OK);  // the later record wins
    EXPECT_GT(journal_bytes(), empty_journal);
  }
  lose_bytes_of("/kept/value");
  auto store = start();
  std::string media_type;
  EXPECT_EQ(read(*store, "/kept/value", &media_type), "43");
  EXPECT_EQ(media_type, "text/x-answer");
  EXPECT_EQ(journal_bytes(), empty_journal);
}

TEST_F(StoreJournal, SmallAppendsAndTheRemovalOfFilesAreRecordedToo) {
  {
    auto store = start();
    ASSERT_EQ(put(*store, "/log", "one "), VERBD_OK);
    ASSERT_EQ(put(*store, "/log", "two", {}, WriteMode::append), VERBD_OK);
    ASSERT_EQ(put(*store, "/removed", "old"), VERBD_OK);
    ASSERT_EQ(store->remove("/removed"), VERBD_OK);
    EXPECT_GT(journal_bytes(), empty_journal);
  }
  lose_bytes_of("/log");
  folder_.write("root/removed", "old");  // as if the unlink had not reached the disk
  auto store = start();
  EXPECT_EQ(read(*store, "/log"), "one two");
  EXPECT_EQ(read(*store, "/removed"), "status " + std::to_string(VERBD_NOT_FOUND));
}

// What the journal does not record is made durable otherwise, and no replay
// of an earlier record undoes it: a version too large to record is fsync'ed
// and marked so, as is the new path of a large file copied; a moved collection
// settles the journal; dead properties are fsync'ed with the bytes.
TEST_F(StoreJournal, WhatItDoesNotRecordIsNeverUndoneByAReplay) {
  const std::string large(Journal::body_limit + 1, 'L'), long_log(Journal::body_limit, 'a');
  {
    auto store = start();
    bool created = false;
    ASSERT_EQ(put(*store, "/folder/member", "in a moved folder"), VERBD_OK);
    ASSERT_EQ(store->transfer("/folder/", "/moved/", 0, true, created), VERBD_OK);
    EXPECT_EQ(journal_bytes(), empty_journal);  // settled: the member's record names a path gone

    ASSERT_EQ(put(*store, "/from", "moved"), VERBD_OK);
    ASSERT_EQ(put(*store, "/to", "replaced by the move"), VERBD_OK);
    ASSERT_EQ(store->transfer("/from", "/to", VERBD_TRANSFER_OVERWRITE, true, created), VERBD_OK);
    ASSERT_EQ(put(*store, "/gone", "removed"), VERBD_OK);
    ASSERT_EQ(store->remove("/gone"), VERBD_OK);
    ASSERT_EQ(put(*store, "/copied", large), VERBD_OK);
    ASSERT_EQ(store->transfer("/copied", "/gone", 0, false, created), VERBD_OK);

    ASSERT_EQ(put(*store, "/large", "small first"), VERBD_OK);
    ASSERT_EQ(put(*store, "/large", large), VERBD_OK);
    ASSERT_EQ(put(*store, "/long", long_log), VERBD_OK);
    ASSERT_EQ(put(*store, "/long", "b", {}, WriteMode::append), VERBD_OK);  // too large to record
    ASSERT_EQ(put(*store, "/described", "x"), VERBD_OK);
    PropertyChange property{"{urn:example}colour", "blue", false};
    ASSERT_EQ(store->change_properties("/described", std::span(&property, 1)), VERBD_OK);
    EXPECT_GT(journal_bytes(), empty_journal);
  }
  auto store = start();
  EXPECT_EQ(read(*store, "/moved/member"), "in a moved folder");
  EXPECT_EQ(read(*store, "/folder/member"), "status " + std::to_string(VERBD_NOT_FOUND));
  EXPECT_EQ(read(*store, "/from"), "status " + std::to_string(VERBD_NOT_FOUND));
  EXPECT_EQ(read(*store, "/to"), "moved");
  EXPECT_EQ(read(*store, "/gone"), large);
  EXPECT_EQ(read(*store, "/copied"), large);
  EXPECT_EQ(read(*store, "/large"), large);
  EXPECT_EQ(read(*store, "/long"), long_log + "b");
  Properties properties;
  ASSERT_EQ(store->properties("/described", properties), VERBD_OK);
  EXPECT_EQ(properties["{urn:example}colour"], "blue");
}

// A small file's move or copy is recorded whole: the new path's version
// with its dead properties and creation time (a copy's own), and a move's
// removal of the old path. A crash that lost the rename loses nothing.
class StoreJournalTransfer : public StoreJournal {
 protected:
  // /from, with a media type and a property, moved or copied over /to; /to's entry after.
  Entry transfer_small_file(bool move) {
    auto store = start();
    EXPECT_EQ(put(*store, "/from", "small", "text/x-small"), VERBD_OK);
    PropertyChange property{"{urn:example}colour", "blue", false};
    EXPECT_EQ(store->change_properties("/from", std::span(&property, 1)), VERBD_OK);
    EXPECT_EQ(put(*store, "/to", "replaced"), VERBD_OK);
    bool created = false;
    EXPECT_EQ(store->transfer("/from", "/to", VERBD_TRANSFER_OVERWRITE, move, created), VERBD_OK);
    Entry entry;
    EXPECT_EQ(store->stat("/to", entry), VERBD_OK);
    EXPECT_GT(journal_bytes(), empty_journal);
    return entry;
  }

  // /to as transfer_small_file() left it; its entry.
  Entry expect_transferred(Store& store) {
    std::string media_type;
    EXPECT_EQ(read(store, "/to", &media_type), "small");
    EXPECT_EQ(media_type, "text/x-small");
    Properties properties;
    EXPECT_EQ(store.properties("/to", properties), VERBD_OK);
    EXPECT_EQ(properties["{urn:example}colour"], "blue");
    Entry entry;
    EXPECT_EQ(store.stat("/to", entry), VERBD_OK);
    return entry;
  }
};

TEST_F(StoreJournalTransfer, ASmallFileMovedIsMadeAgainWithItsPropertiesAndCreationTime) {
  Entry moved = transfer_small_file(true);
  // As if the rename had not reached the disk, nor the version it replaced.
  std::filesystem::rename(root() / "to", root() / "from");
  folder_.write("root/to", "");
  auto store = start();
  EXPECT_EQ(read(*store, "/from"), "status " + std::to_string(VERBD_NOT_FOUND));
  EXPECT_EQ(expect_transferred(*store).created_unix, moved.created_unix);
}

TEST_F(StoreJournalTransfer, ASmallFileCopiedIsMadeAgainWithItsPropertiesAndCreationTime) {
  Entry copy = transfer_small_file(false);
  folder_.write("root/to", "");  // as if neither the copy nor the version it replaced reached the disk
  auto store = start();
  EXPECT_EQ(read(*store, "/from"), "small");
  EXPECT_NEAR(double(expect_transferred(*store).created_unix), double(copy.created_unix), 1.0);
}

TEST_F(StoreJournal, ARemovedCollectionsWritesAreNotMadeAgain) {
  {
    auto store = start();
    ASSERT_EQ(put(*store, "/folder/member", "gone with its folder"), VERBD_OK);
    ASSERT_EQ(store->remove("/folder/"), VERBD_OK);
    EXPECT_GT(journal_bytes(), empty_journal);
  }
  auto store = start();
  EXPECT_EQ(read(*store, "/folder/member"), "status " + std::to_string(VERBD_NOT_FOUND));
  std::string lines;
  ASSERT_EQ(store->list("/", lines), VERBD_OK);
  EXPECT_EQ(lines, "");
}

TEST_F(StoreJournal, ARecordACrashCutShortIsLeftOutAndTheOnesBeforeItAreMadeAgain) {
  {
    auto store = start();
    ASSERT_EQ(put(*store, "/first", "one"), VERBD_OK);
    ASSERT_EQ(put(*store, "/second", "two"), VERBD_OK);
  }
  std::filesystem::resize_file(journal(), journal_bytes() - 2);
  lose_bytes_of("/first");
  lose_bytes_of("/second");
  auto store = start();
  EXPECT_EQ(read(*store, "/first"), "one");
  EXPECT_EQ(read(*store, "/second"), "");  // never acknowledged: its record was not whole on disk
  EXPECT_EQ(journal_bytes(), empty_journal);
}

TEST_F(StoreJournal, AWriteIsNotMadeAgainInAFolderThatIsNotTheOneItWentInto) {
  {
    auto store = start();
    ASSERT_EQ(put(*store, "/folder/member", "in the first folder"), VERBD_OK);
  }
  // Moved aside and made anew by hand, as no request of verbd's could
  // without settling the journal first.
  std::filesystem::rename(root() / "folder", root() / "aside");
  std::filesystem::create_directory(root() / "folder");
  auto store = start();
  EXPECT_EQ(read(*store, "/folder/member"), "status " + std::to_string(VERBD_NOT_FOUND));
  EXPECT_EQ(read(*store, "/aside/member"), "in the first folder");
}

TEST_F(StoreJournal, IsSettledWhenItsRecordsPassTheirBound) {
  auto store = start();
  const std::string body(Journal::body_limit, 'b');
  std::uintmax_t largest = 0, writes = 0;
  for (std::uintmax_t last = 0; journal_bytes() >= last && writes < 1000; ++writes) {
    last = journal_bytes();
    largest = std::max(largest, last);
    ASSERT_EQ(put(*store, "/big-" + std::to_string(writes % 7), body), VERBD_OK);
  }
  EXPECT_EQ(journal_bytes(), empty_journal);  // emptied by the write that passed the bound
  EXPECT_GE(largest + body.size() + 100, empty_journal + Journal::settle_bytes);
  EXPECT_LT(largest, empty_journal + Journal::settle_bytes);
}

TEST_F(StoreJournal, IsNotWrittenWithoutFsyncYetWhatItHoldsIsMadeAgainDurably) {
  {
    auto store = start();
    ASSERT_EQ(put(*store, "/recorded", "kept"), VERBD_OK);
  }
  lose_bytes_of("/recorded");
  auto store = start(false);
  EXPECT_EQ(read(*store, "/recorded"), "kept");
  ASSERT_EQ(put(*store, "/unrecorded", "not journaled"), VERBD_OK);
  EXPECT_EQ(journal_bytes(), empty_journal);
}

TEST_F(StoreJournal, AFileThatIsNotAJournalIsAnErrorNamingIt) {
  for (std::size_t size : {std::size_t(100), std::size_t(Journal::empty_size + 100)}) {
    folder_.write("root/" + std::string(reserved_folder) + "/journal", std::string(size, 'x'));
    try {
      start();
      ADD_FAILURE() << "opened one of " << size << " bytes";
    } catch (const std::runtime_error& error) {
      EXPECT_NE(std::string(error.what()).find(".verbd-tmp/journal"), std::string::npos) << error.what();
    }
  }
  // One whose making a crash cut short is made again.
  folder_.write("root/" + std::string(reserved_folder) + "/journal", std::string(Journal::empty_size, '\0'));
  auto store = start();
  ASSERT_EQ(put(*store, "/after", "x"), VERBD_OK);
  EXPECT_GT(journal_bytes(), empty_journal);
}

// A journal removed while in use would be gone, with its records, at the
// next start: what it holds is settled when a write finds it removed, and
// later writes are made durable without it.
TEST_F(StoreJournal, OneRemovedWhileInUseIsSettledAndWritesGoOnWithoutIt) {
  {
    auto store = start();
    ASSERT_EQ(put(*store, "/before", "recorded"), VERBD_OK);
    std::filesystem::remove(journal());
    ASSERT_EQ(put(*store, "/finds", "its record finds the journal removed"), VERBD_OK);
    ASSERT_EQ(put(*store, "/after", "not recorded"), VERBD_OK);
    ASSERT_EQ(store->remove("/finds"), VERBD_OK);
    bool created = false;
    ASSERT_EQ(store->transfer("/after", "/copied", 0, false, created), VERBD_OK);
    EXPECT_EQ(removed_journal_bytes(), empty_journal);
  }
  auto store = start();  // with a new journal
  ASSERT_EQ(put(*store, "/new", "recorded again"), VERBD_OK);
  EXPECT_GT(journal_bytes(), empty_journal);
  EXPECT_EQ(read(*store, "/before"), "recorded");
  EXPECT_EQ(read(*store, "/finds"), "status " + std::to_string(VERBD_NOT_FOUND));
  EXPECT_EQ(read(*store, "/copied"), "not recorded");
}

// The journal alone: a record is known in its slot until a settle, and a
// write learns from its mark whether a settle ran meanwhile.
TEST(JournalFile, ARecordIsKnownInItsSlotUntilASettle) {
  TempFolder folder;
  Fd opened(::open(folder.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  Journal journal(opened.get());
  EXPECT_FALSE(journal.may_hold_records_in(3));
  std::uint64_t before = journal.mark();
  ASSERT_TRUE(journal.append({{Journal::Change::write, "/a", "text/plain", "x", {1, 2}, 3}}));
  EXPECT_FALSE(journal.settled_since(before));
  EXPECT_TRUE(journal.holds_records());
  EXPECT_TRUE(journal.may_hold_records_in(3));
  EXPECT_FALSE(journal.may_hold_records_in(4));
  std::uint64_t torn = 1;
  auto records = journal.records(torn);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(torn, 0u);
  EXPECT_EQ(records[0].path, "/a");
  EXPECT_EQ(records[0].version, "x");
  EXPECT_TRUE((records[0].folder == Journal::Folder{1, 2}));

  ASSERT_TRUE(journal.settle());
  EXPECT_TRUE(journal.settled_since(before));
  EXPECT_FALSE(journal.holds_records());
  EXPECT_FALSE(journal.may_hold_records_in(3));
  EXPECT_TRUE(journal.records(torn).empty());
  EXPECT_EQ(std::filesystem::file_size(folder / Journal::file_name), Journal::empty_size);
}

// Removed by hand: retired by the append that finds it so (whose write then
// fsyncs, as after a settle), or by the supervisor's look every second.
TEST(JournalFile, OneRemovedIsRetiredAndWhatItHoldsSettled) {
  TempFolder folder;
  Fd opened(::open(folder.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  {
    Journal journal(opened.get());
    ASSERT_TRUE(journal.append({{Journal::Change::write, "/a", "text/plain", "x", {1, 2}, 3}}));
    EXPECT_FALSE(journal.retire_if_unlinked());
    std::filesystem::remove(folder / Journal::file_name);
    std::uint64_t before = journal.mark();
    ASSERT_TRUE(journal.append({{Journal::Change::write, "/b", "text/plain", "y", {1, 2}, 4}}));
    EXPECT_FALSE(journal.in_use());
    EXPECT_TRUE(journal.settled_since(before));
    EXPECT_FALSE(journal.holds_records());
  }
  Journal journal(opened.get());  // a new one, at the name
  EXPECT_TRUE(journal.in_use());
  ASSERT_TRUE(journal.append({{Journal::Change::write, "/c", "text/plain", "z", {1, 2}, 5}}));
  std::uint64_t before = journal.mark();
  std::filesystem::remove(folder / Journal::file_name);
  EXPECT_TRUE(journal.retire_if_unlinked());
  EXPECT_TRUE(journal.settled_since(before));
  EXPECT_FALSE(journal.holds_records());
}

// A replay over the store as it stands changes nothing, whatever writes,
// appends and deletes of the same paths ran at once before: no record is made again over
// a later change. CI runs this under ThreadSanitizer too.
TEST(StoreConcurrency, AReplayAfterConcurrentWritesAndDeletesChangesNothing) {
  TempFolder folder;
  auto store = make_files_store({folder / "root", true, true});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      std::mt19937 random(static_cast<unsigned>(t));
      for (int n = 0; n < 150; ++n) {
        std::string path = "/c/" + std::to_string(random() % 6);
        Entry entry;
        bool created;
        std::string body = std::to_string(t) + "-" + std::to_string(n) + ";";
        auto choice = random() % 3;
        Status status = choice == 0 ? store->remove(path)
                                    : store->write({path, body, {}, choice == 1 ? WriteMode::replace : WriteMode::append},
                                                   entry, created);
        EXPECT_TRUE(status == VERBD_OK || status == VERBD_NOT_FOUND) << status;
      }
    });
  for (auto& thread : threads) thread.join();
  auto contents = [&](Store& of) {
    std::map<std::string, std::string> all;
    for (int i = 0; i < 6; ++i) {
      std::string bytes, path = "/c/" + std::to_string(i);
      Entry entry;
      all[path] = of.read(path, &bytes, entry) == VERBD_OK ? bytes : "absent";
    }
    return all;
  };
  auto before = contents(*store);
  store.reset();
  auto replayed = make_files_store({folder / "root", true, true});
  EXPECT_EQ(contents(*replayed), before);
}

}  // namespace
}  // namespace verbd::store
