// The ceiling for fsync_cost.sh: THREADS threads that make new 100-byte
// files durably, with the system calls the files store makes for a PUT
// with `fsync = true` and nothing else (no HTTP, no parsing, no plugin):
// create in a scratch folder, write, set the media type, fsync, rename
// into place, fsync the folder. No server that makes each file durable by
// its own two fsyncs can make more. verbd does so for large bodies only: a
// small one is made durable by a record in its journal (store/journal.hpp),
// whose fdatasyncs the filesystem gathers into fewer commits, which is how
// it can pass this ceiling.
//   fsync_ceiling FOLDER THREADS SECONDS   (prints files per second)
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> stop{false};
std::atomic<long> made{0};

void make_files(int scratch, int folder, int thread) {
  const std::string body(100, 'x');
  for (long n = 0; !stop; ++n) {
    std::string name = std::to_string(thread) + "-" + std::to_string(n);
    int file = ::openat(scratch, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    struct stat st {};
    bool written = file >= 0 && ::write(file, body.data(), body.size()) == ssize_t(body.size()) &&
                   ::fsetxattr(file, "user.verbd.media_type", "text/plain", 10, 0) == 0 &&
                   ::fsync(file) == 0 && ::fstat(file, &st) == 0 &&
                   ::renameat2(scratch, name.c_str(), folder, name.c_str(), RENAME_NOREPLACE) == 0 &&
                   ::fsync(folder) == 0;
    if (file >= 0) ::close(file);
    if (!written) {
      std::perror("fsync_ceiling");
      std::exit(1);
    }
    ++made;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: fsync_ceiling FOLDER THREADS SECONDS\n");
    return 2;
  }
  std::string root = argv[1];
  ::mkdirat(AT_FDCWD, (root + "/scratch").c_str(), 0755);
  ::mkdirat(AT_FDCWD, (root + "/bench").c_str(), 0755);
  int scratch = ::open((root + "/scratch").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int folder = ::open((root + "/bench").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (scratch < 0 || folder < 0) {
    std::perror("fsync_ceiling: open");
    return 1;
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < std::atoi(argv[2]); ++i) threads.emplace_back(make_files, scratch, folder, i);
  std::this_thread::sleep_for(std::chrono::seconds(std::atoi(argv[3])));
  stop = true;
  for (auto& thread : threads) thread.join();
  std::printf("%ld\n", made.load() / std::atoi(argv[3]));
}
