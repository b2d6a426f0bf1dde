// One suite, run against every backend: they must behave identically.
#include "store/store.hpp"
#include "store/path.hpp"
#include "store/read_cache.hpp"
#include "store/write_count.hpp"

#include "../../support/backend_test.hpp"
#include "../../support/store_text.hpp"
#include "../../support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

namespace verbd::store {
namespace {

using verbd::test::TempFolder;

class StoreTest : public verbd::test::BackendTest {
 protected:
  Status put(std::string_view path, std::string_view body, std::string_view type = {},
             WriteMode mode = WriteMode::replace, bool* created = nullptr) {
    return verbd::test::write_text(*store_, path, body, type, mode, created);
  }

  std::string get(std::string_view path) { return verbd::test::text_at(*store_, path); }

  std::string list(std::string_view path) {
    std::string lines;
    Status status = store_->list(path, lines);
    return status == VERBD_OK ? lines : "status " + std::to_string(status);
  }

  Entry stat(std::string_view path, Status* status = nullptr) {
    Entry entry;
    Status result = store_->stat(path, entry);
    if (status) *status = result;
    return entry;
  }
};

TEST_P(StoreTest, WritesAndReadsResources) {
  bool created = false;
  ASSERT_EQ(put("/notes.txt", "hello", {}, WriteMode::replace, &created), VERBD_OK);
  EXPECT_TRUE(created);
  EXPECT_EQ(get("/notes.txt"), "hello");
  Entry entry = stat("/notes.txt");
  EXPECT_EQ(entry.kind, VERBD_ENTRY_RESOURCE);
  EXPECT_EQ(entry.size, 5u);
  EXPECT_EQ(std::string(entry.media_type), "text/plain; charset=utf-8");
  EXPECT_EQ(entry.etag[0], '"');
  EXPECT_GT(entry.modified_unix, 0);
}

std::string read_whole(int fd) {
  std::string bytes;
  char chunk[65536];
  for (ssize_t n; (n = ::pread(fd, chunk, sizeof chunk, static_cast<off_t>(bytes.size()))) > 0;)
    bytes.append(chunk, static_cast<std::size_t>(n));
  return bytes;
}

// A large resource may come as its open file (files) or as bytes (memory);
// either way it is the version read, even once a write has replaced it.
TEST_P(StoreTest, ReadsLargeResourcesForSendingAsTheVersionRead) {
  std::string older(Store::send_from_file_bytes + 1, 'a'), newer(Store::send_from_file_bytes + 7, 'b');
  ASSERT_EQ(put("/large.bin", older), VERBD_OK);
  std::string bytes;
  Fd file;
  Entry entry;
  ASSERT_EQ(store_->read_for_sending("/large.bin", bytes, file, entry), VERBD_OK);
  ASSERT_EQ(put("/large.bin", newer), VERBD_OK);
  EXPECT_EQ(entry.size, older.size());
  EXPECT_EQ(file.ok(), GetParam() == "files");
  EXPECT_TRUE((file.ok() ? read_whole(file.get()) : bytes) == older);

  std::string small_bytes;
  Fd small_file;
  ASSERT_EQ(put("/small.txt", "small"), VERBD_OK);
  ASSERT_EQ(store_->read_for_sending("/small.txt", small_bytes, small_file, entry), VERBD_OK);
  EXPECT_FALSE(small_file.ok());
  EXPECT_EQ(small_bytes, "small");
}

TEST_P(StoreTest, ReplacingChangesTheETagAndReportsNotCreated) {
  ASSERT_EQ(put("/a", "one"), VERBD_OK);
  std::string before = stat("/a").etag;
  bool created = true;
  ASSERT_EQ(put("/a", "two", {}, WriteMode::replace, &created), VERBD_OK);
  EXPECT_FALSE(created);
  EXPECT_EQ(get("/a"), "two");
  EXPECT_NE(std::string(stat("/a").etag), before);
}

TEST_P(StoreTest, AppendsAndCreatesOnFirstAppend) {
  bool created = false;
  ASSERT_EQ(put("/board", "Computer Network\n", {}, WriteMode::append, &created), VERBD_OK);
  EXPECT_TRUE(created);
  ASSERT_EQ(put("/board", "Socket\n", {}, WriteMode::append, &created), VERBD_OK);
  EXPECT_FALSE(created);
  EXPECT_EQ(get("/board"), "Computer Network\nSocket\n");
}

TEST_P(StoreTest, CreateOnlyRefusesWhatExists) {
  ASSERT_EQ(put("/once", "1", {}, WriteMode::create), VERBD_OK);
  EXPECT_EQ(put("/once", "2", {}, WriteMode::create), VERBD_EXISTS);
  EXPECT_EQ(get("/once"), "1");
}

TEST_P(StoreTest, KeepsTheMediaTypeGivenAndKeepsItOnReplace) {
  ASSERT_EQ(put("/data.bin", "{}", "application/json"), VERBD_OK);
  EXPECT_EQ(std::string(stat("/data.bin").media_type), "application/json");
  ASSERT_EQ(put("/data.bin", "[]"), VERBD_OK);
  EXPECT_EQ(std::string(stat("/data.bin").media_type), "application/json");
  ASSERT_EQ(put("/blob", "x"), VERBD_OK);
  EXPECT_EQ(std::string(stat("/blob").media_type), "application/octet-stream");
  EXPECT_EQ(put("/bad", "x", "text/plain\r\nX: y"), VERBD_BAD_ARGUMENT);
}

TEST_P(StoreTest, CreatesParentsAndListsMembers) {
  ASSERT_EQ(put("/db/name", "kang"), VERBD_OK);
  ASSERT_EQ(put("/db/sub/deep", "x"), VERBD_OK);
  EXPECT_EQ(stat("/db/").kind, VERBD_ENTRY_COLLECTION);
  EXPECT_EQ(stat("/db").kind, VERBD_ENTRY_COLLECTION);
  EXPECT_EQ(list("/db/"), "name\nsub/\n");
  EXPECT_EQ(list("/"), "db/\n");
}

TEST_P(StoreTest, RefusesConflictsBetweenResourcesAndCollections) {
  ASSERT_EQ(put("/file", "x"), VERBD_OK);
  EXPECT_EQ(put("/file/child", "y"), VERBD_NOT_COLLECTION);
  ASSERT_EQ(put("/folder/child", "y"), VERBD_OK);
  EXPECT_EQ(put("/folder", "z"), VERBD_IS_COLLECTION);
  EXPECT_EQ(put("/folder/", "z"), VERBD_IS_COLLECTION);
  Entry entry;
  EXPECT_EQ(store_->read("/folder", nullptr, entry), VERBD_IS_COLLECTION);
  Status status;
  stat("/file/", &status);
  EXPECT_EQ(status, VERBD_NOT_FOUND);
  EXPECT_EQ(list("/file/"), "status " + std::to_string(VERBD_NOT_FOUND));
}

TEST_P(StoreTest, ReportsMissingPaths) {
  Status status;
  stat("/nothing", &status);
  EXPECT_EQ(status, VERBD_NOT_FOUND);
  EXPECT_EQ(get("/nothing"), "status " + std::to_string(VERBD_NOT_FOUND));
  EXPECT_EQ(list("/nothing/"), "status " + std::to_string(VERBD_NOT_FOUND));
  EXPECT_EQ(store_->remove("/nothing"), VERBD_NOT_FOUND);
}

TEST_P(StoreTest, RemovesResourcesAndCollectionsRecursively) {
  ASSERT_EQ(put("/a/b/c", "1"), VERBD_OK);
  ASSERT_EQ(put("/a/d", "2"), VERBD_OK);
  ASSERT_EQ(put("/e", "3"), VERBD_OK);
  EXPECT_EQ(store_->remove("/a/d"), VERBD_OK);
  EXPECT_EQ(list("/a/"), "b/\n");
  EXPECT_EQ(store_->remove("/a/"), VERBD_OK);
  EXPECT_EQ(list("/"), "e\n");
  ASSERT_EQ(put("/x/y", "4"), VERBD_OK);
  EXPECT_EQ(store_->remove("/"), VERBD_OK);
  EXPECT_EQ(list("/"), "");
  EXPECT_EQ(put("/again", "5"), VERBD_OK);
}

TEST_P(StoreTest, RefusesPathsThatAreNotClean) {
  using namespace std::string_view_literals;
  for (auto bad : {""sv, "relative"sv, "/a/../b"sv, "/./a"sv, "/a//b"sv, "/.verbd-tmp/x"sv, "/a\0b"sv}) {
    Entry entry;
    EXPECT_EQ(store_->stat(bad, entry), VERBD_BAD_ARGUMENT) << bad;
    EXPECT_EQ(put(bad, "x"), VERBD_BAD_ARGUMENT) << bad;
    EXPECT_EQ(store_->remove(bad), VERBD_BAD_ARGUMENT) << bad;
  }
}

// A body spooled by open_spool() is written whole in every mode, and may be
// written more than once; the spool file is the caller's still afterwards.
TEST_P(StoreTest, WritesASpooledBodyInEveryMode) {
  Fd spool = store_->open_spool();
  ASSERT_TRUE(spool.ok()) << std::strerror(errno);
  std::string body(200 * 1024, 'b');
  ASSERT_EQ(::write(spool.get(), body.data(), body.size()), static_cast<ssize_t>(body.size()));
  BodyFile file{spool.get(), body.size()};
  Entry entry;
  bool created = false;
  ASSERT_EQ(store_->write({"/one", {}, {}, WriteMode::replace, &file}, entry, created), VERBD_OK);
  ASSERT_EQ(store_->write({"/two", {}, {}, WriteMode::create, &file}, entry, created), VERBD_OK);
  ASSERT_EQ(put("/three", "head:"), VERBD_OK);
  ASSERT_EQ(store_->write({"/three", {}, {}, WriteMode::append, &file}, entry, created), VERBD_OK);
  EXPECT_EQ(get("/one"), body);
  EXPECT_EQ(get("/two"), body);
  EXPECT_EQ(get("/three"), "head:" + body);
  ASSERT_EQ(put("/one", "replaced"), VERBD_OK);  // a later write of one leaves the others alone
  EXPECT_EQ(get("/two"), body);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("files", "memory", "redis"));

// What only the files backend has: a real folder, durability, symlinks.
class FilesStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> open(std::chrono::milliseconds recheck = FilesOptions{}.recheck) {
    return make_files_store({folder_ / "root", true, true, recheck});
  }
  static std::string read_text(Store& store, std::string_view path) {
    return verbd::test::text_at(store, path);
  }
  TempFolder folder_;
};

TEST_F(FilesStoreTest, ServesFilesDroppedIntoTheRoot) {
  folder_.write("root/index.html", "HTTP GET Method (Success)\n");
  auto store = open();
  std::string bytes;
  Entry entry;
  ASSERT_EQ(store->read("/index.html", &bytes, entry), VERBD_OK);
  EXPECT_EQ(bytes, "HTTP GET Method (Success)\n");
  EXPECT_EQ(std::string(entry.media_type), "text/html; charset=utf-8");
}

// Small files are kept in memory once settled; with a recheck time of 0,
// what is served must still be what is on disk, however the file was changed
// behind the store's back.
TEST_F(FilesStoreTest, AKeptResourceFollowsEveryChangeToItsFile) {
  folder_.write("root/page.txt", "aaaa");
  auto store = open(std::chrono::milliseconds(0));
  auto read = [&](std::string_view path) { return read_text(*store, path); };
  std::this_thread::sleep_for(ReadCache::settle + std::chrono::milliseconds(50));
  EXPECT_EQ(read("/page.txt"), "aaaa");  // kept now
  EXPECT_EQ(read("/page.txt"), "aaaa");  // served from memory

  folder_.write("root/page.txt", "bbbb");  // same size, same inode, within one clock tick
  EXPECT_EQ(read("/page.txt"), "bbbb");

  std::this_thread::sleep_for(ReadCache::settle + std::chrono::milliseconds(50));
  EXPECT_EQ(read("/page.txt"), "bbbb");
  Entry entry;
  bool created;
  ASSERT_EQ(store->write({"/page.txt", "cccc", {}, WriteMode::replace}, entry, created), VERBD_OK);
  EXPECT_EQ(read("/page.txt"), "cccc");

  std::this_thread::sleep_for(ReadCache::settle + std::chrono::milliseconds(50));
  EXPECT_EQ(read("/page.txt"), "cccc");
  folder_.write("outside/secret", "dddd");
  std::filesystem::remove(folder_ / "root/page.txt");
  std::filesystem::create_symlink(folder_ / "outside/secret", folder_ / "root/page.txt");
  EXPECT_EQ(read("/page.txt"), "status " + std::to_string(VERBD_DENIED));
  std::filesystem::remove(folder_ / "root/page.txt");
  EXPECT_EQ(read("/page.txt"), "status " + std::to_string(VERBD_NOT_FOUND));
}

// Within its recheck time a kept resource is served without a look at its
// file, unless something was written through a store on the same root, as
// another worker process does: that is seen at once.
TEST_F(FilesStoreTest, AWriteThroughAnyStoreOnTheRootIsSeenAtOnce) {
  folder_.write("root/page.txt", "aaaa");
  auto store = open(std::chrono::minutes(1));
  auto other = make_files_store({folder_ / "root", true, false, std::chrono::minutes(1)});
  auto read = [&](std::string_view path) { return read_text(*store, path); };
  std::this_thread::sleep_for(ReadCache::settle + std::chrono::milliseconds(50));
  EXPECT_EQ(read("/page.txt"), "aaaa");  // kept now
  EXPECT_EQ(read("/page.txt"), "aaaa");  // looked at, and so trusted for a minute

  folder_.write("root/page.txt", "bbbb");  // another program, within the minute
  EXPECT_EQ(read("/page.txt"), "aaaa");

  Entry entry;
  bool created;
  ASSERT_EQ(other->write({"/page.txt", "cccc", {}, WriteMode::replace}, entry, created), VERBD_OK);
  EXPECT_EQ(read("/page.txt"), "cccc");
  ASSERT_EQ(other->remove("/page.txt"), VERBD_OK);
  EXPECT_EQ(read("/page.txt"), "status " + std::to_string(VERBD_NOT_FOUND));
}

TEST_F(FilesStoreTest, AWriteCountThatCannotBeUsedIsAnErrorNamingIt) {
  std::filesystem::create_directories(folder_ / "root/.verbd-tmp/writes");  // in the way
  try {
    open();
    FAIL() << "the store opened without its write count";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(),
                 "cannot use the store's write count .verbd-tmp/writes in its root: open: Is a directory");
  }
}

TEST_F(FilesStoreTest, ARootThatCannotBeMadeIsAnErrorSayingWhy) {
  std::ofstream(folder_ / "plain") << "a file where a folder would go";
  try {
    make_files_store({folder_ / "plain/root", true, true, FilesOptions{}.recheck});
    FAIL() << "the store opened without its root";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()),
              "cannot create store root " + (folder_ / "plain/root").string() + ": Not a directory");
  }
}

TEST_F(FilesStoreTest, AChangeByAnotherProgramIsSeenOnceTheRecheckTimeHasPassed) {
  folder_.write("root/page.txt", "aaaa");
  auto store = open(std::chrono::milliseconds(100));
  auto read = [&](std::string_view path) { return read_text(*store, path); };
  std::this_thread::sleep_for(ReadCache::settle + std::chrono::milliseconds(50));
  EXPECT_EQ(read("/page.txt"), "aaaa");
  EXPECT_EQ(read("/page.txt"), "aaaa");
  folder_.write("root/page.txt", "bbbb");
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_EQ(read("/page.txt"), "bbbb");
}

TEST_F(FilesStoreTest, TheReadCacheKeepsOnlySettledSmallFilesAndOnlyWhileUnchanged) {
  folder_.write("root/a.txt", "aaaa");
  folder_.write("root/big.bin", std::string(ReadCache::max_resource_bytes + 1, 'x'));
  int root = ::open((folder_ / "root").c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(root, 0);
  auto stat_of = [&](const char* name) {
    struct stat st {};
    ::fstatat(root, name, &st, 0);
    return st;
  };
  WriteCount writes(root);
  ReadCache cache(writes, std::chrono::milliseconds(0));
  Entry entry{};
  std::string bytes;
  cache.keep("a.txt", stat_of("a.txt"), "aaaa", entry);  // just written: not settled
  EXPECT_FALSE(cache.find(root, "a.txt", bytes, entry));

  std::this_thread::sleep_for(ReadCache::settle + std::chrono::milliseconds(50));
  cache.keep("a.txt", stat_of("a.txt"), "aaaa", entry);
  cache.keep("big.bin", stat_of("big.bin"), std::string(ReadCache::max_resource_bytes + 1, 'x'), entry);
  EXPECT_TRUE(cache.find(root, "a.txt", bytes, entry));
  EXPECT_EQ(bytes, "aaaa");
  EXPECT_FALSE(cache.find(root, "big.bin", bytes, entry));

  folder_.write("root/a.txt", "bbbb");
  EXPECT_FALSE(cache.find(root, "a.txt", bytes, entry));
  ::close(root);
}

TEST_F(FilesStoreTest, DataSurvivesReopening) {
  {
    auto store = open();
    Entry entry;
    bool created;
    ASSERT_EQ(store->write({"/kept/value", "42", "text/x-answer", WriteMode::replace}, entry, created),
              VERBD_OK);
  }
  auto store = open();
  std::string bytes;
  Entry entry;
  ASSERT_EQ(store->read("/kept/value", &bytes, entry), VERBD_OK);
  EXPECT_EQ(bytes, "42");
  EXPECT_EQ(std::string(entry.media_type), "text/x-answer");
}

TEST_F(FilesStoreTest, ClearsLeftoversOfACrashOnStart) {
  folder_.write("root/.verbd-tmp/123-4", "half a write");
  auto store = open();
  EXPECT_FALSE(std::filesystem::exists(folder_ / "root/.verbd-tmp/123-4"));
  std::string lines;
  ASSERT_EQ(store->list("/", lines), VERBD_OK);
  EXPECT_EQ(lines, "");
}

TEST_F(FilesStoreTest, ClearsTheScratchFilesOfOneDeadProcessOnly) {
  auto store = open();
  folder_.write("root/.verbd-tmp/123-4", "half a write");
  folder_.write("root/.verbd-tmp/123-5/member", "a collection being deleted");
  folder_.write("root/.verbd-tmp/1234-6", "another process's write");
  clear_scratch_of(folder_ / "root", 123);
  EXPECT_FALSE(std::filesystem::exists(folder_ / "root/.verbd-tmp/123-4"));
  EXPECT_FALSE(std::filesystem::exists(folder_ / "root/.verbd-tmp/123-5"));
  EXPECT_TRUE(std::filesystem::exists(folder_ / "root/.verbd-tmp/1234-6"));
}

// A PUT of a spooled body is a rename: the stored file is the spool file
// itself, not a copy; it takes the media type it is given. A second write of
// the same body is a copy, so that the two resources never share a file.
TEST_F(FilesStoreTest, ASpooledBodyBecomesTheStoredFileWithoutACopy) {
  auto store = open();
  Fd spool = store->open_spool();
  ASSERT_TRUE(spool.ok()) << std::strerror(errno);
  ASSERT_EQ(::write(spool.get(), "spooled", 7), 7);
  BodyFile file{spool.get(), 7};
  Entry entry;
  bool created = false;
  ASSERT_EQ(store->write({"/a.bin", {}, "application/x-a", WriteMode::replace, &file}, entry, created),
            VERBD_OK);
  ASSERT_EQ(store->write({"/b.bin", {}, "application/x-b", WriteMode::replace, &file}, entry, created),
            VERBD_OK);
  struct stat spooled {
  }, a{}, b{};
  ASSERT_EQ(::fstat(spool.get(), &spooled), 0);
  ASSERT_EQ(::stat((folder_ / "root/a.bin").c_str(), &a), 0);
  ASSERT_EQ(::stat((folder_ / "root/b.bin").c_str(), &b), 0);
  EXPECT_TRUE(file.adopted);
  EXPECT_EQ(a.st_ino, spooled.st_ino);
  EXPECT_NE(b.st_ino, spooled.st_ino);
  EXPECT_EQ(folder_.read("root/a.bin"), "spooled");
  EXPECT_EQ(folder_.read("root/b.bin"), "spooled");
  ASSERT_EQ(store->stat("/a.bin", entry), VERBD_OK);
  EXPECT_STREQ(entry.media_type, "application/x-a");
  ASSERT_EQ(store->stat("/b.bin", entry), VERBD_OK);
  EXPECT_STREQ(entry.media_type, "application/x-b");
  EXPECT_TRUE(verbd::test::scratch_leftovers(folder_ / "root").empty());
}

// A spool file nobody wrote leaves nothing behind: it never had a name.
TEST_F(FilesStoreTest, AnAbandonedSpoolFileLeavesNothing) {
  auto store = open();
  {
    Fd spool = store->open_spool();
    ASSERT_TRUE(spool.ok());
    ASSERT_EQ(::write(spool.get(), "half", 4), 4);
  }
  EXPECT_TRUE(verbd::test::scratch_leftovers(folder_ / "root").empty());
}

TEST_F(FilesStoreTest, NeverFollowsASymlinkOutOfTheRoot) {
  folder_.write("outside/secret", "top secret");
  auto store = open();
  std::filesystem::create_directory_symlink(folder_ / "outside", folder_ / "root/escape");
  std::filesystem::create_symlink(folder_ / "outside/secret", folder_ / "root/link");
  std::string bytes;
  Entry entry;
  bool created;
  EXPECT_EQ(store->read("/escape/secret", &bytes, entry), VERBD_DENIED);
  EXPECT_EQ(store->read("/link", &bytes, entry), VERBD_DENIED);
  EXPECT_EQ(store->write({"/escape/new", "x", {}, WriteMode::replace}, entry, created), VERBD_DENIED);
  EXPECT_EQ(store->write({"/link", "x", {}, WriteMode::append}, entry, created), VERBD_DENIED);
  EXPECT_EQ(bytes, "");
  EXPECT_FALSE(std::filesystem::exists(folder_ / "outside/new"));
  std::ifstream secret(folder_ / "outside/secret");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(secret), {}), "top secret");
  EXPECT_EQ(store->remove("/escape/secret"), VERBD_DENIED);
  EXPECT_TRUE(std::filesystem::exists(folder_ / "outside/secret"));
  EXPECT_EQ(store->remove("/link"), VERBD_DENIED);  // symlinks are not resources, as in listings
  EXPECT_TRUE(std::filesystem::is_symlink(folder_ / "root/link"));
}

}  // namespace
}  // namespace verbd::store
