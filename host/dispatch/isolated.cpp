#include "dispatch/isolated.hpp"

#include "common/exit_status.hpp"
#include "log/log.hpp"
#include "store/shared_files.hpp"
#include "store/store.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <iterator>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <thread>
#include <utility>

namespace verbd::dispatch {
namespace {

// The processes the PluginProcesses of this worker have running, for
// signal_all(). A pid leaves the set before its process is reaped.
std::mutex running_mutex;
std::set<pid_t> running_pids;

// Messages are frames: a 4-byte length, then that many bytes of fields;
// each field is a number (8 bytes) or a text (its length, then its bytes).
// Both ends are this binary, so the byte order is the machine's.
constexpr std::uint32_t max_frame_bytes = 1u << 30;

class Writer {
 public:
  Writer& number(std::uint64_t value) {
    bytes_.append(reinterpret_cast<const char*>(&value), sizeof value);
    return *this;
  }
  Writer& text(std::string_view value) {
    number(value.size());
    bytes_.append(value);
    return *this;
  }
  const std::string& bytes() const noexcept { return bytes_; }

 private:
  std::string bytes_;
};

class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}
  bool number(std::uint64_t& value) {
    if (rest_.size() < sizeof value) return false;
    std::memcpy(&value, rest_.data(), sizeof value);
    rest_.remove_prefix(sizeof value);
    return true;
  }
  bool text(std::string_view& value) {
    std::uint64_t size = 0;
    if (!number(size) || size > rest_.size()) return false;
    value = rest_.substr(0, size);
    rest_.remove_prefix(size);
    return true;
  }

 private:
  std::string_view rest_;
};

using Clock = std::chrono::steady_clock;

// The highest descriptor number this process may have, plus one.
int descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur > (1u << 20)) return 1 << 20;
  return static_cast<int>(limit.rlim_cur);
}

// In the child, before exec(): marks every descriptor from `first` up
// close-on-exec, so that only what the plugin's process is handed crosses.
// The worker's client connections (Asio accepts them without
// SOCK_CLOEXEC), and whatever a plugin in the worker opened, must not: that
// process could read and write them, and a connection the worker closed
// would stay open in it. Kernels before 5.11 lack CLOSE_RANGE_CLOEXEC; then
// each number below `limit` is marked in turn. Async-signal-safe.
void close_on_exec_from(int first, int limit) noexcept {
  if (::close_range(static_cast<unsigned>(first), ~0u, CLOSE_RANGE_CLOEXEC) == 0) return;
  for (int fd = first; fd < limit; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
}

// What the child does between fork() and exec(), all made before fork():
// a child of a threaded process may only make async-signal-safe calls.
struct ChildSetup {
  char* const* argv;
  int socket;                         // its end of the socket pair, which becomes descriptor 3
  std::span<const int> shared_files;  // the store's, named in its arguments (--shared-files)
  int descriptor_limit;
  pid_t parent;
};

[[noreturn]] void become_plugin_process(const ChildSetup& setup) noexcept {
  // Blocked from the start, and across exec: a SIGUSR1 that signal_all()
  // sends before the new process waits for it stays pending, not fatal.
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  ::sigprocmask(SIG_BLOCK, &usr1, nullptr);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != setup.parent) ::_exit(1);
  close_on_exec_from(3, setup.descriptor_limit);  // then 3 and the shared files are let through
  if (setup.socket == 3 ? ::fcntl(3, F_SETFD, 0) != 0 : ::dup2(setup.socket, 3) != 3) ::_exit(126);
  for (int fd : setup.shared_files)
    if (::fcntl(fd, F_SETFD, 0) != 0) ::_exit(126);
  ::execv(setup.argv[0], setup.argv);
  ::_exit(127);
}

// A process told to end (its socket closed) has this long before it is killed.
constexpr auto time_to_end = std::chrono::seconds(1);
constexpr auto reap_interval = std::chrono::milliseconds(10);

struct Ending {
  pid_t pid;
  Clock::time_point kill_at;
  std::filesystem::path store_root;  // the files store's: the process's scratch files go once it has
};

// The process leaves running_pids first: once reaped, its pid may be reused.
Ending begin_ending(pid_t pid, const std::filesystem::path& store_root) {
  std::lock_guard lock(running_mutex);
  running_pids.erase(pid);
  return {pid, Clock::now() + time_to_end, store_root};
}

// The status of a process once it has ended (reaped, its scratch files
// removed), or nothing while it runs; past its time, it is killed.
std::optional<int> ended(const Ending& ending) {
  int status = 0;
  if (::waitpid(ending.pid, &status, WNOHANG) == 0) {
    if (Clock::now() >= ending.kill_at) ::kill(ending.pid, SIGKILL);
    return std::nullopt;
  }
  if (!ending.store_root.empty()) store::clear_scratch_of(ending.store_root, ending.pid);
  return status;
}

// The thread that starts the plugins' processes and waits for those let go:
// one per worker process, started with the first, lasting until it exits.
//
// It starts them because the kernel kills a process on PR_SET_PDEATHSIG
// when the thread that forked it ends, not its process: a pool thread
// written off at the time limit ends when its call returns at last, and a
// process it had started would end with it.
//
// It waits for those let go because a generation of plugins is often let go
// on an event loop, which must not wait the milliseconds a process takes to
// end, nor the second after which one that will not is killed. An end other
// than exit status 0 is logged: the plugin's teardown failed. At exit it
// waits for those left.
class ProcessKeeper {
 public:
  static ProcessKeeper& instance() {
    static ProcessKeeper keeper;
    return keeper;
  }

  // fork() on this thread: the child becomes the plugin's process; the
  // parent gets its pid (-1 when fork() failed, with errno).
  pid_t start(const ChildSetup& setup) {
    std::unique_lock lock(mutex_);
    turn_.wait(lock, [this] { return to_start_ == nullptr; });
    to_start_ = &setup;
    wake_.notify_one();
    turn_.wait(lock, [this] { return started_.has_value(); });
    auto [pid, error] = *std::exchange(started_, std::nullopt);
    to_start_ = nullptr;
    turn_.notify_all();
    errno = error;
    return pid;
  }

  void let_go(Ending ending, std::string plugin_file) {
    {
      std::lock_guard lock(mutex_);
      ending_.push_back({std::move(ending), std::move(plugin_file)});
    }
    wake_.notify_one();
  }

  ~ProcessKeeper() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

 private:
  struct Retired {
    Ending ending;
    std::string plugin_file;
  };

  ProcessKeeper() = default;

  // Looks every reap_interval while some are waiting to end.
  void run() {
    std::vector<Retired> waiting;
    std::unique_lock lock(mutex_);
    auto work = [this] { return stopping_ || !ending_.empty() || (to_start_ != nullptr && !started_); };
    while (!stopping_ || !ending_.empty() || !waiting.empty()) {
      if (waiting.empty())
        wake_.wait(lock, work);
      else
        wake_.wait_for(lock, reap_interval, work);
      if (to_start_ != nullptr && !started_) fork_now();
      std::move(ending_.begin(), ending_.end(), std::back_inserter(waiting));
      ending_.clear();
      lock.unlock();
      std::erase_if(waiting, reaped);
      lock.lock();
    }
  }

  // With the lock held; the child never touches it.
  void fork_now() {
    pid_t pid = ::fork();
    if (pid == 0) become_plugin_process(*to_start_);
    started_ = {pid, errno};
    turn_.notify_all();
  }

  static bool reaped(const Retired& retired) {
    std::optional<int> status = ended(retired.ending);
    if (!status) return false;
    if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
      verbd::log::get("plugins").warn("isolated plugin {}: its process (pid {}), let go, {}",
                                      retired.plugin_file, retired.ending.pid, describe_exit_status(*status));
    return true;
  }

  std::mutex mutex_;
  std::condition_variable wake_;  // for this thread
  std::condition_variable turn_;  // for those starting a process
  const ChildSetup* to_start_ = nullptr;
  std::optional<std::pair<pid_t, int>> started_;  // its pid, and errno
  std::vector<Retired> ending_;
  bool stopping_ = false;
  std::thread thread_{[this] { run(); }};  // last: the members above are there when it starts
};

bool write_all(int socket, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::send(socket, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool read_all(int socket, char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::recv(socket, data, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Sends one frame; `file`, when open, goes along with its first byte.
bool send_frame(int socket, std::string_view payload, int file = -1) {
  if (payload.size() > max_frame_bytes) {
    errno = EMSGSIZE;
    return false;
  }
  auto length = static_cast<std::uint32_t>(payload.size());
  iovec part{&length, sizeof length};
  msghdr message{};
  message.msg_iov = &part;
  message.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (file >= 0) {
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(header), &file, sizeof file);
  }
  ssize_t sent;
  do sent = ::sendmsg(socket, &message, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  if (sent < 0) return false;
  auto* rest = reinterpret_cast<const char*>(&length) + sent;
  return write_all(socket, rest, sizeof length - static_cast<std::size_t>(sent)) &&
         write_all(socket, payload.data(), payload.size());
}

// Reads one frame, and the file that came with it, if any.
bool receive_frame(int socket, std::string& payload, Fd* file = nullptr) {
  std::uint32_t length = 0;
  iovec part{&length, sizeof length};
  msghdr message{};
  message.msg_iov = &part;
  message.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  ssize_t got;
  do got = ::recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
  while (got < 0 && errno == EINTR);
  if (got <= 0) return false;
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr; header = CMSG_NXTHDR(&message, header))
    if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS) {
      int received = -1;
      std::memcpy(&received, CMSG_DATA(header), sizeof received);
      Fd owned(received);
      if (file != nullptr) *file = std::move(owned);
    }
  auto* rest = reinterpret_cast<char*>(&length) + got;
  if (!read_all(socket, rest, sizeof length - static_cast<std::size_t>(got)) || length > max_frame_bytes)
    return false;
  payload.resize(length);
  return read_all(socket, payload.data(), length);
}

// receive_frame(), each read waiting at most `limit` (then false, with
// errno EAGAIN); the socket waits without limit again after.
bool receive_frame_within(int socket, std::string& payload, std::chrono::milliseconds limit) {
  auto whole_seconds = std::chrono::duration_cast<std::chrono::seconds>(limit);
  timeval wait{static_cast<time_t>(whole_seconds.count()),
               static_cast<suseconds_t>((limit - whole_seconds).count() * 1000)};
  if (wait.tv_sec == 0 && wait.tv_usec == 0) wait.tv_usec = 1;  // zero would mean no limit
  ::setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  errno = 0;
  bool received = receive_frame(socket, payload);
  int error = errno;
  timeval forever{};
  ::setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &forever, sizeof forever);
  errno = error;
  return received;
}

std::string encode(const http::Request& request, std::string_view allow) {
  Writer out;
  out.text(allow);
  out.text(request.method).text(request.target).number(static_cast<std::uint64_t>(request.version));
  out.number(request.headers.size());
  for (const auto& field : request.headers) out.text(field.name).text(field.value);
  out.text(request.body);
  // A spooled body's file goes along with the frame (send_frame).
  out.number(request.body_spooled()).number(request.body_file_size);
  return out.bytes();
}

// Rebuilds the request in `request`'s own buffers (see http/request.hpp);
// `file` is what came with the frame.
bool decode(std::string_view bytes, http::Request& request, std::string& allow, Fd file) {
  Reader in(bytes);
  std::string_view allowed, method, target, body;
  std::uint64_t version = 0, count = 0, spooled = 0, spooled_size = 0;
  if (!in.text(allowed) || !in.text(method) || !in.text(target) || !in.number(version) || !in.number(count))
    return false;
  allow.assign(allowed);
  request.clear();
  std::vector<std::string_view> texts{method, target};
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string_view name, value;
    if (!in.text(name) || !in.text(value)) return false;
    texts.push_back(name);
    texts.push_back(value);
  }
  if (!in.text(body) || !in.number(spooled) || !in.number(spooled_size) || (spooled != 0 && !file.ok()))
    return false;
  std::vector<std::size_t> offsets;
  for (auto text : texts) {
    offsets.push_back(request.head_bytes.size());
    request.head_bytes.append(text);
  }
  auto view = [&](std::size_t i) {
    return std::string_view(request.head_bytes).substr(offsets[i], texts[i].size());
  };
  request.method = view(0);
  request.target = view(1);
  request.version = static_cast<int>(version);
  for (std::size_t i = 2; i + 1 < texts.size(); i += 2) request.headers.push_back({view(i), view(i + 1)});
  request.host = request.header("Host");
  request.body.assign(body);
  if (spooled != 0) {
    request.body_file = std::move(file);
    request.body_file_size = spooled_size;
  }
  return true;
}

// What follows a request: the response whole, or its head, then the pieces
// of its body, then its end (a body the plugin sends as it makes it). While
// those come, the worker may send an empty frame: nobody takes more.
enum class Answer : std::uint64_t { whole, head, piece, end };

std::string encode(Answer kind, const http::Response::Parts& parts) {
  Writer out;
  out.number(static_cast<std::uint64_t>(kind));
  out.number(static_cast<std::uint64_t>(parts.status))
      .number(parts.answers_head)
      .number(parts.has_content_type);
  out.text(parts.fields).text(parts.body);
  out.number(parts.length_not_read.has_value()).number(parts.length_not_read.value_or(0));
  out.number(parts.streamed).number(parts.resource_body);
  return out.bytes();
}

bool decode(Reader& in, http::Response& response, Fd file) {
  http::Response::Parts parts;
  std::uint64_t status = 0, head = 0, typed = 0, unread = 0, unread_length = 0, streamed = 0, resource = 0;
  if (!in.number(status) || !in.number(head) || !in.number(typed) || !in.text(parts.fields) ||
      !in.text(parts.body) || !in.number(unread) || !in.number(unread_length) || !in.number(streamed) ||
      !in.number(resource))
    return false;
  parts.streamed = streamed != 0;
  parts.resource_body = resource != 0;
  parts.status = static_cast<int>(status);
  parts.answers_head = head != 0;
  parts.has_content_type = typed != 0;
  if (unread != 0) parts.length_not_read = unread_length;
  response.rebuild(parts, std::move(file));
  return true;
}

}  // namespace

PluginProcess::PluginProcess(std::filesystem::path file, IsolatedCommand command)
    : file_(std::move(file)), command_(std::move(command)) {}

std::unique_ptr<PluginProcess> PluginProcess::start(const std::filesystem::path& file,
                                                    const IsolatedCommand& command,
                                                    plugin::Description& description, std::string& refusal) {
  std::unique_ptr<PluginProcess> process(new PluginProcess(file, command));
  if (!process->spawn(description, refusal)) return nullptr;
  return process;
}

// The socket closed tells the process to end; the keeper thread waits for it,
// for a generation of plugins is often let go on an event loop.
PluginProcess::~PluginProcess() {
  socket_ = Fd();
  pid_t pid = std::exchange(pid_, -1);
  if (pid > 0)
    ProcessKeeper::instance().let_go(begin_ending(pid, command_.store_root), file_.filename().string());
}

// Starts the process and reads its description. The arguments are made
// before fork(): between fork() and exec() a child of a threaded process
// may only make async-signal-safe calls.
bool PluginProcess::spawn(plugin::Description& description, std::string& problem) {
  std::vector<std::string> words{command_.binary, "--serve-plugin", file_.string()};
  words.insert(words.end(), command_.arguments.begin(), command_.arguments.end());
  std::vector<char*> argv;
  for (auto& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
    problem = std::string("socketpair: ") + std::strerror(errno);
    return false;
  }
  Fd ours(ends[0]), theirs(ends[1]);
  std::vector<int> shared_files = store::pinned_descriptors();
  ChildSetup child{argv.data(), theirs.get(), shared_files, descriptor_limit(), ::getpid()};
  pid_t pid = ProcessKeeper::instance().start(child);
  if (pid < 0) {
    problem = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  pid_ = pid;
  {
    std::lock_guard lock(running_mutex);
    running_pids.insert(pid);
  }
  socket_ = std::move(ours);
  std::string hello;
  bool received = receive_frame_within(socket_.get(), hello, command_.start_timeout);
  if (!received && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    ::kill(pid_, SIGKILL);  // still loading the plugin, or making it: it would not end on its own
    return fail("its process did not describe the plugin within " +
                    std::to_string(command_.start_timeout.count()) +
                    " ms (limits.handler_timeout_ms): " + shut_down(),
                problem);
  }
  Reader in(hello);
  std::string_view word, name, version, abi;
  std::uint64_t count = 0;
  if (!received || !in.text(word))
    return fail("its process " + shut_down() + " before it described the plugin", problem);
  if (word != "ok") {
    std::string_view reason;
    in.text(reason);
    shut_down();
    return fail(std::string(reason), problem);
  }
  if (!in.text(name) || !in.text(version) || !in.text(abi) || !in.number(count))
    return fail("its process described the plugin in a way this verbd cannot read: " + shut_down(), problem);
  description = {std::string(name), std::string(version), std::string(abi), {}};
  for (std::uint64_t i = 0; i < count && in.text(word); ++i) description.methods.emplace_back(word);
  return true;
}

void PluginProcess::signal_all(int signal) noexcept {
  std::lock_guard lock(running_mutex);
  for (pid_t pid : running_pids) ::kill(pid, signal);
}

bool PluginProcess::fail(std::string why, std::string& problem) {
  problem = std::move(why);
  return false;
}

// Closes the socket (the process exits when it reads its end) and buries it.
std::string PluginProcess::shut_down() {
  socket_ = Fd();
  return bury();
}

// Waits for the process to end (killing it if it will not), removes the
// scratch files of the writes it was making, and says how it ended.
std::string PluginProcess::bury() {
  pid_t pid = std::exchange(pid_, -1);
  if (pid <= 0) return "(not running)";
  Ending ending = begin_ending(pid, command_.store_root);
  std::optional<int> status;
  while (!(status = ended(ending))) std::this_thread::sleep_for(reap_interval);
  return "(pid " + std::to_string(pid) + ") " + describe_exit_status(*status);
}

bool PluginProcess::exchange(const http::Request& request, std::string_view allow, http::Response& response,
                             Ended& ended, const std::atomic<bool>* cancelled, Streamer* streamer) {
  std::lock_guard lock(mutex_);
  if (cancelled != nullptr && cancelled->load()) return true;
  bool answered = deliver(request, allow, ended, cancelled) && receive_answer(response, streamer);
  set_busy(nullptr, -1);
  if (!answered && ended.on_request.empty()) ended.on_request = shut_down();
  return answered;
}

// Sends the request to the process, starting it first when it is not
// running. The process runs a request only once it has all of it, so a
// request that could not be sent whole never ran: when the process is
// found gone (its end of the socket closed), it is started again and the
// request sent to the new one, unless the call was cancelled meanwhile
// (interrupt() killed it).
bool PluginProcess::deliver(const http::Request& request, std::string_view allow, Ended& ended,
                            const std::atomic<bool>* cancelled) {
  std::string frame = encode(request, allow);
  for (int attempt = 0; attempt < 2; ++attempt) {
    plugin::Description ignored;
    if (!socket_.ok() && !spawn(ignored, ended.on_request)) return false;
    set_busy(cancelled, pid_);
    if (send_frame(socket_.get(), frame, request.body_file.get())) return true;
    bool gone = errno == EPIPE || errno == ECONNRESET;
    if (!gone || attempt == 1 || (cancelled != nullptr && cancelled->load())) return false;
    set_busy(nullptr, -1);
    ended.before_request = shut_down();
  }
  return false;
}

bool PluginProcess::receive_answer(http::Response& response, Streamer* streamer) {
  std::string reply;
  Fd file;
  if (!receive_frame(socket_.get(), reply, &file)) return false;
  Reader in(reply);
  std::uint64_t kind = 0;
  if (!in.number(kind)) return false;
  if (kind == std::uint64_t(Answer::whole)) return decode(in, response, std::move(file));
  return kind == std::uint64_t(Answer::head) && decode(in, response, Fd()) && relay_body(response, streamer);
}

// Hands the pieces on as they come. When nobody takes them (the client has
// gone, or the call is past its time limit), the process is told so and
// the rest is read and dropped.
bool PluginProcess::relay_body(http::Response& head, Streamer* streamer) {
  bool taken = streamer != nullptr && streamer->begin(head);
  std::string frame;
  while (receive_frame(socket_.get(), frame)) {
    Reader in(frame);
    std::uint64_t kind = 0, complete = 0;
    std::string_view piece;
    if (!in.number(kind)) return false;
    if (kind == std::uint64_t(Answer::end) && in.number(complete)) {
      if (streamer != nullptr && streamer->began()) streamer->end(complete != 0);
      return true;
    }
    if (kind != std::uint64_t(Answer::piece) || !in.text(piece)) return false;
    if (taken && !streamer->send(piece)) {
      taken = false;
      if (!send_frame(socket_.get(), {})) return false;
    }
  }
  return false;
}

void PluginProcess::set_busy(const std::atomic<bool>* cancelled, pid_t pid) {
  std::lock_guard lock(busy_mutex_);
  busy_with_ = cancelled;
  busy_pid_ = pid;
}

void PluginProcess::interrupt(const std::atomic<bool>* cancelled) {
  std::lock_guard lock(busy_mutex_);
  if (cancelled != nullptr && busy_with_ == cancelled && busy_pid_ > 0)
    ::kill(busy_pid_, SIGKILL);  // not reaped yet: still its pid
}

namespace isolated {

bool send_description(int socket, const plugin::Plugin& plugin) {
  Writer out;
  out.text("ok")
      .text(plugin.name())
      .text(plugin.version())
      .text(plugin.abi())
      .number(plugin.methods().size());
  for (const auto& method : plugin.methods()) out.text(method);
  return send_frame(socket, out.bytes());
}

bool send_refusal(int socket, const std::string& reason) {
  return send_frame(socket, Writer().text("refused").text(reason).bytes());
}

// An empty frame is a late "nobody takes more" of a body that had ended.
bool receive_request(int socket, http::Request& request, std::string& allow) {
  std::string bytes;
  Fd file;
  do {
    if (!receive_frame(socket, bytes, &file)) return false;
  } while (bytes.empty());
  return decode(bytes, request, allow, std::move(file));
}

bool send_response(int socket, http::Response& response) {
  Fd file = response.file_to_send();
  return send_frame(socket, encode(Answer::whole, response.parts()), file.get());
}

bool ProcessStreamer::begin(http::Response& head) {
  began_ = send_frame(socket_, encode(Answer::head, head.parts()));
  gone_ = !began_;
  return began_;
}

bool ProcessStreamer::send(std::string_view piece) {
  if (gone_ || told_gone()) return false;
  Writer out;
  out.number(std::uint64_t(Answer::piece)).text(piece);
  gone_ = !send_frame(socket_, out.bytes());
  return !gone_;
}

void ProcessStreamer::end(bool complete) noexcept {
  try {
    Writer out;
    out.number(std::uint64_t(Answer::end)).number(complete);
    if (!send_frame(socket_, out.bytes())) lost_ = true;
  } catch (...) {
    lost_ = true;
  }
}

// The worker's empty frame, read without waiting.
bool ProcessStreamer::told_gone() {
  pollfd readable{socket_, POLLIN, 0};
  if (::poll(&readable, 1, 0) <= 0) return false;
  std::string frame;
  gone_ = true;
  if (!receive_frame(socket_, frame) || !frame.empty()) lost_ = true;  // anything else: out of step
  return true;
}

void ProcessStreamer::start_request() noexcept { began_ = gone_ = false; }

}  // namespace isolated

}  // namespace verbd::dispatch
