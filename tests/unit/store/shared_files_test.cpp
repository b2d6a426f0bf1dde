#include "store/shared_files.hpp"

#include "store/lock_table.hpp"
#include "store/path.hpp"

#include "../../support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace verbd::store {
namespace {

using verbd::test::TempFolder;

std::uint64_t inode_of(int fd) {
  struct stat about {};
  return ::fstat(fd, &about) == 0 ? about.st_ino : 0;
}

Fd open_folder(const std::filesystem::path& path) {
  return Fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

// Pins are for the life of the process, so one test holds them all.
TEST(SharedFiles, PinnedOnesAreOpenedAgainAfterTheirNamesAreRemovedAndOnlyForTheirStore) {
  TempFolder folder;
  std::filesystem::create_directory(folder / std::string(reserved_folder));
  auto pinned = pin_shared_files(folder.path());
  ASSERT_EQ(pinned.size(), 4u);
  Fd root = open_folder(folder.path());
  int shared = pinned_folder_of(root.get());
  ASSERT_GE(shared, 0);

  for (const SharedFile& file : pinned) {
    ASSERT_EQ(::unlinkat(shared, file.name, 0), 0) << file.name;
    Fd again = open_shared_file(shared, file.name, false);
    ASSERT_TRUE(again.ok()) << file.name << ": " << std::strerror(errno);
    EXPECT_EQ(inode_of(again.get()), file.inode) << file.name;
  }

  // A lock table opened now is the pinned one: it sees a lock taken through another.
  LockTable first(shared), second(shared);
  Lock lock{{}, "/held", true, false, {}};
  ASSERT_EQ(first.acquire(lock, 600), VERBD_OK);
  EXPECT_EQ(second.affecting("/held").size(), 1u);

  // Another store's folder opens its own files, by name.
  TempFolder other;
  Fd other_root = open_folder(other.path());
  EXPECT_EQ(pinned_folder_of(other_root.get()), -1);
  Fd made = open_shared_file(other_root.get(), LockTable::file_name, true);
  ASSERT_TRUE(made.ok());
  EXPECT_TRUE(std::filesystem::exists(other / LockTable::file_name));

  // A process started by exec takes them from their text, and nothing else.
  std::string text = pinned_as_text();
  EXPECT_EQ(text.rfind("root=", 0), 0u) << text;
  EXPECT_EQ(pinned_descriptors().size(), 6u);
  for (const std::string& bad : std::vector<std::string>{"", "root=3x", "root=999999,folder=999998", "root", "folder=" + std::to_string(shared)})
    EXPECT_THROW(adopt_pinned(bad), std::runtime_error) << bad;
  adopt_pinned(text);
  EXPECT_EQ(pinned_as_text(), text);
  EXPECT_EQ(pinned_folder_of(root.get()), shared);
}

}  // namespace
}  // namespace verbd::store
