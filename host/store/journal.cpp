#include "store/journal.hpp"

#include "log/log.hpp"
#include "store/byte_lock.hpp"
#include "store/path.hpp"
#include "store/shared_files.hpp"

#include <boost/crc.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <stdexcept>

namespace verbd::store {
namespace {

// The file: a header, then the records, each appended whole. The header's
// first bytes say what the file is; the counts follow, then, from the
// second page, the count of settles when each slot last had a record.
constexpr std::string_view magic = "verbd journal 1\n";
constexpr off_t header_size = Journal::empty_size;
constexpr std::size_t counts_offset = 64;
constexpr std::size_t slots_offset = 4096;
static_assert(slots_offset + Journal::slots * sizeof(std::uint64_t) == Journal::empty_size);
// A slot's value besides a count plus one.
constexpr std::uint64_t no_record = 0, may_hold_any = UINT64_MAX;

// Each record: this head, then the path, the media type, the dead
// properties and the version. The checksum covers everything after
// itself, so a record a crash cut short (or bytes that never were a
// record) is told from a whole one.
struct RecordHead {
  std::uint32_t magic = 0x31524a56;  // "VJR1"
  std::uint32_t checksum = 0;
  std::uint64_t folder_inode = 0, folder_born = 0;
  std::uint32_t change = 0;
  std::uint32_t path_size = 0, media_type_size = 0, properties_size = 0;
  std::uint64_t version_size = 0;
  std::int64_t created = 0;
};
static_assert(sizeof(RecordHead) == 56, "no padding: the checksum covers every byte");
constexpr std::size_t checksummed_from = offsetof(RecordHead, folder_inode);
constexpr std::uint32_t most_property_bytes = 64 * 1024;

std::uint32_t checksum_of(const RecordHead& head, std::string_view path, std::string_view media_type,
                          std::string_view properties, std::string_view version) {
  boost::crc_32_type crc;
  crc.process_bytes(reinterpret_cast<const char*>(&head) + checksummed_from, sizeof head - checksummed_from);
  for (std::string_view part : {path, media_type, properties, version})
    crc.process_bytes(part.data(), part.size());
  return crc.checksum();
}

[[noreturn]] void fail(const char* what) {
  throw std::runtime_error("cannot use the store's journal " + std::string(reserved_folder) + "/" +
                           Journal::file_name + " in its root: " + what + ": " + std::strerror(errno));
}

bool read_exactly(int file, void* into, std::size_t size, off_t at) {
  auto* bytes = static_cast<char*>(into);
  while (size > 0) {
    ssize_t got = ::pread(file, bytes, size, at);
    if (got <= 0) return false;
    bytes += got, size -= static_cast<std::size_t>(got), at += got;
  }
  return true;
}

// Reads the record at `at` into `record` and moves `at` past it; false
// when there is none whole there.
bool read_record(int file, off_t& at, Journal::Record& record) {
  RecordHead head;
  if (!read_exactly(file, &head, sizeof head, at) || head.magic != RecordHead{}.magic ||
      head.path_size > 4096 || head.media_type_size > 1024 || head.properties_size > most_property_bytes ||
      head.version_size > Journal::body_limit)
    return false;
  record.path.resize(head.path_size);
  record.media_type.resize(head.media_type_size);
  record.properties.resize(head.properties_size);
  record.version.resize(head.version_size);
  off_t next = at + static_cast<off_t>(sizeof head);
  for (std::string* part : {&record.path, &record.media_type, &record.properties, &record.version}) {
    if (!read_exactly(file, part->data(), part->size(), next)) return false;
    next += static_cast<off_t>(part->size());
  }
  if (checksum_of(head, record.path, record.media_type, record.properties, record.version) != head.checksum)
    return false;
  if (head.change < std::uint32_t(Journal::Change::write) ||
      head.change > std::uint32_t(Journal::Change::transferred_in))
    return false;
  record.change = Journal::Change(head.change);
  record.folder = {head.folder_inode, head.folder_born};
  record.created = head.created;
  at = next;
  return true;
}

}  // namespace

Journal::Journal(int folder) : file_(open_shared_file(folder, file_name, true)) {
  if (!file_.ok()) fail("open");
  struct stat st {};
  if (::fstat(file_.get(), &st) != 0) fail("fstat");
  // A new file (or one whose making a crash cut short: zeros where its
  // first bytes go) is given its header. Making it again over one another
  // process made changes nothing.
  char first[magic.size()] = {};
  if (::pread(file_.get(), first, sizeof first, 0) < 0) fail("read");
  bool unmade = std::all_of(std::begin(first), std::end(first), [](char c) { return c == 0; });
  if (unmade && ((st.st_size < header_size && ::ftruncate(file_.get(), header_size) != 0) ||
                 ::pwrite(file_.get(), magic.data(), magic.size(), 0) != static_cast<ssize_t>(magic.size())))
    fail("make");
  if (!unmade && st.st_size < header_size) {
    errno = EINVAL;
    fail("its first bytes are not a verbd journal's");
  }
  void* page = ::mmap(nullptr, header_size, PROT_READ | PROT_WRITE, MAP_SHARED, file_.get(), 0);
  if (page == MAP_FAILED) fail("mmap");
  if (std::memcmp(page, magic.data(), magic.size()) != 0) {
    ::munmap(page, header_size);
    errno = EINVAL;
    fail("its first bytes are not a verbd journal's");
  }
  header_ = reinterpret_cast<std::uint64_t*>(static_cast<char*>(page) + counts_offset);
  slots_ = reinterpret_cast<std::uint64_t*>(static_cast<char*>(page) + slots_offset);
  // From here on only appended to (pwrite on a file opened so would append too).
  if (::fcntl(file_.get(), F_SETFL, O_APPEND) != 0) fail("fcntl");
}

Journal::~Journal() { ::munmap(reinterpret_cast<char*>(header_) - counts_offset, header_size); }

bool Journal::append(std::initializer_list<Appended> records) {
  constexpr std::size_t parts_each = 5;
  if (records.size() > 2 || broken()) {
    errno = records.size() > 2 ? EINVAL : EIO;
    return false;
  }
  RecordHead heads[2];
  iovec parts[2 * parts_each];
  ssize_t size = 0;
  std::size_t count = 0;
  auto part = [&](const void* bytes, std::size_t length) {
    parts[count++] = iovec{const_cast<void*>(bytes), length};
    size += static_cast<ssize_t>(length);
  };
  for (std::size_t i = 0; i < records.size(); ++i) {
    const Appended& record = records.begin()[i];
    RecordHead& head = heads[i];
    head.folder_inode = record.folder.inode;
    head.folder_born = record.folder.born;
    head.change = static_cast<std::uint32_t>(record.change);
    head.path_size = static_cast<std::uint32_t>(record.path.size());
    head.media_type_size = static_cast<std::uint32_t>(record.media_type.size());
    head.properties_size = static_cast<std::uint32_t>(record.properties.size());
    head.version_size = record.version.size();
    head.created = record.created;
    head.checksum = checksum_of(head, record.path, record.media_type, record.properties, record.version);
    part(&head, sizeof head);
    for (std::string_view bytes : {record.path, record.media_type, record.properties, record.version})
      part(bytes.data(), bytes.size());
  }
  std::uint64_t failures_before = sync_failures_.load(std::memory_order_acquire);
  // One writev on a file opened O_APPEND: records of concurrent writers
  // never interleave.
  ssize_t written = ::writev(file_.get(), parts, static_cast<int>(count));
  if (written > 0) appended().fetch_add(static_cast<std::uint64_t>(written), std::memory_order_acq_rel);
  if (written == size && sync_appended(failures_before)) {
    // One more than the count now, never no_record.
    for (const Appended& record : records)
      slot_count(record.slot).store(mark() + 1, std::memory_order_release);
    retire_if_unlinked();  // then the caller's settled_since() says to fsync
    return true;
  }
  int error = written >= 0 && written != size ? ENOSPC : errno;
  settle();  // a failure breaks the journal, and is logged
  errno = error;
  return false;
}

bool Journal::sync_appended(std::uint64_t failures_before) {
  std::uint64_t mine = appends_written_.fetch_add(1, std::memory_order_acq_rel) + 1;
  std::lock_guard<std::mutex> one_at_a_time(syncing_);
  if (appends_synced_ < mine) {  // else a sync that began after this writev succeeded
    std::uint64_t covered = appends_written_.load(std::memory_order_acquire);
    if (::fdatasync(file_.get()) != 0) {
      sync_failures_.fetch_add(1, std::memory_order_acq_rel);
      return false;
    }
    appends_synced_ = covered;
  }
  if (sync_failures_.load(std::memory_order_acquire) == failures_before) return true;
  errno = EIO;  // a sync since this append's writev failed, and may have been writing its record
  return false;
}

bool Journal::may_hold_records_in(std::size_t slot) const noexcept {
  std::uint64_t recorded = slot_count(slot).load(std::memory_order_acquire);
  if (recorded == no_record || recorded == may_hold_any) return recorded == may_hold_any;
  // A settle that began after the record was on disk emptied the journal
  // of it: the next one to begin when none ran, the one after that if one did.
  std::uint64_t count = recorded - 1;
  return mark() < count + (count % 2 == 0 ? 2 : 3);
}

bool Journal::settle() {
  std::lock_guard<std::mutex> in_this_process(settling_);
  ByteLock in_any_process(file_.get(), 0);
  if (broken()) {
    errno = EIO;
    return false;
  }
  if (!holds_records()) return true;
  // What is counted now is emptied out below; what is appended from here on
  // may be emptied too, and is then counted once too often, which costs one
  // settle more, never a record missed.
  std::uint64_t counted = appended().load(std::memory_order_acquire);
  settles().fetch_add(1, std::memory_order_acq_rel);  // odd: a settle runs
  bool done = ::syncfs(file_.get()) == 0 && empty_records();
  int error = errno;
  if (done) appended().fetch_sub(counted, std::memory_order_acq_rel);
  // The records stay: every slot may hold some, whatever the count says.
  if (!done) {
    fill_slots(may_hold_any);
    broken_flag().store(1, std::memory_order_release);
  }
  settles().fetch_add(1, std::memory_order_acq_rel);
  if (!done)
    verbd::log::get("store").error(
        "settling the journal {}/{}: {}: its records are kept for the next start, which makes them again, "
        "and durable writes are refused until then: restart verbd once the disk is sound",
        reserved_folder, file_name, std::strerror(error));
  errno = error;
  return done;
}

bool Journal::retire_if_unlinked() {
  if (!in_use()) return true;
  struct stat st {};
  if (::fstat(file_.get(), &st) != 0 || st.st_nlink > 0) return false;
  std::uint64_t was_in_use = 0;
  if (retired().compare_exchange_strong(was_in_use, 1, std::memory_order_acq_rel))
    verbd::log::get("store").error(
        "the journal {}/{} was removed or replaced while verbd ran: what it recorded is made durable now "
        "(syncfs), and durable writes are made with an fsync of their file and folder until a restart "
        "makes a new one",
        reserved_folder, file_name);
  settle();  // a failure is logged; the writes it would have made durable may be lost in a crash
  return true;
}

std::vector<Journal::Record> Journal::records(std::uint64_t& torn_bytes) const {
  std::vector<Record> records;
  struct stat st {};
  if (::fstat(file_.get(), &st) != 0) return records;
  off_t at = header_size;
  for (Record record; at < st.st_size && read_record(file_.get(), at, record);)
    records.push_back(std::move(record));
  torn_bytes = at < st.st_size ? static_cast<std::uint64_t>(st.st_size - at) : 0;
  return records;
}

bool Journal::empty_out() {
  if (::syncfs(file_.get()) != 0 || !empty_records()) return false;
  appended().store(0, std::memory_order_release);
  retired().store(0, std::memory_order_release);  // its file is the one at its name, as a start opened it
  broken_flag().store(0, std::memory_order_release);
  fill_slots(no_record);
  // A settle a crash interrupted left the count odd: every write would take
  // it for one that runs.
  if (mark() % 2 == 1) settles().fetch_add(1, std::memory_order_acq_rel);
  return true;
}

void Journal::fill_slots(std::uint64_t value) noexcept {
  for (std::size_t slot = 0; slot < slots; ++slot) slot_count(slot).store(value, std::memory_order_release);
}

// Emptied, and durably so: a journal that came back after a crash would
// make its writes again over later changes.
bool Journal::empty_records() {
  return ::ftruncate(file_.get(), header_size) == 0 && ::fdatasync(file_.get()) == 0;
}

}  // namespace verbd::store
