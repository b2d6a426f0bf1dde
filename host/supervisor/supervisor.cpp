#include "supervisor/supervisor.hpp"

#include "common/exit_status.hpp"
#include "common/host_port.hpp"
#include "log/log.hpp"
#include "store/journal.hpp"
#include "store/path.hpp"
#include "store/redis_client.hpp"
#include "store/shared_files.hpp"
#include "store/store.hpp"
#include "supervisor/metrics_page.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace verbd::supervisor {
namespace {

// Where the store is, for the "listening" line (never the password).
std::string store_location(const config::Store& store) {
  if (store.backend == "files") return store.root.string();
  if (store.backend == "redis")
    return fmt::format("{} (keys {{{}}}:*)", store::redis_location(store.redis), store.redis.prefix);
  return "(memory)";
}

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

spdlog::logger& log() {
  static auto& logger = verbd::log::get("supervisor");
  return logger;
}

std::int64_t ms_since(Clock::time_point then) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - then).count();
}

// One worker process, as the supervisor keeps track of it.
struct Worker {
  unsigned number = 0;
  std::size_t first_loop = 0, loops = 0;
  pid_t pid = -1;
  Fd ready;  // the read end of the pipe the worker writes to once it serves
  bool serving = false;
  Clock::time_point died{};                     // when it was last found dead
  std::optional<Clock::time_point> respawn_at;  // a replacement waits until then
  std::string report;                  // the death not yet logged: logged once the replacement serves
  std::string quarantine;              // what it led to, logged after it
  unsigned deaths_before_serving = 0;  // in a row: the restart is put off longer each time
  const board::CallRecord* stopped_in = nullptr;  // the load it was killed in, hung past the time limit
};

// A plugin's crashes within the window, by file version.
struct CrashHistory {
  std::string description;  // "crash.so (crash 1.0.0)"
  std::deque<Clock::time_point> times;
};

class Supervisor {
 public:
  Supervisor(const config::Config& config, const WorkerMain& worker_main)
      : config_(config),
        worker_main_(worker_main),
        board_(config.server.workers, config.server.plugin_threads) {
    board_.quarantine_retry_after_s() = static_cast<std::uint32_t>(config.plugins.quarantine_window.count());
    metrics::count_events_in(&board_.events());  // here, and in every worker forked from here
    listeners_ = net::open_listeners(config.server.host, config.server.port, config.server.workers);
    port_ = net::bound_port(listeners_.front());
    if (config.tls.enabled) {
      tls_listeners_ = net::open_listeners(config.server.host, config.tls.port, config.server.workers);
      tls_port_ = net::bound_port(tls_listeners_.front());
    }
    if (config.metrics.enabled) metrics_.emplace(config.metrics.host, config.metrics.port);
    if (config.store.backend == "files") {
      shared_files_ = store::pin_shared_files(config.store.root);
      Fd root(::open(config.store.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      journal_.emplace(store::pinned_folder_of(root.get()));
    }
    unsigned processes = config.server.processes, loops = config.server.workers;
    std::size_t first = 0;
    for (unsigned p = 0; p < processes; ++p) {
      auto& worker = workers_.emplace_back();
      worker.number = p + 1;
      worker.first_loop = first;
      worker.loops = loops / processes + (p < loops % processes ? 1 : 0);
      first += worker.loops;
    }
  }

  int run() {
    block_signals();
    for (auto& worker : workers_) spawn(worker);
    while (!stopping_ || alive() > 0) wait_for_events();
    if (journal_) journal_->settle();  // the next start finds no writes to make again
    log().info("stopped");
    return 0;
  }

 private:
  void block_signals() {
    sigset_t handled;
    sigemptyset(&handled);
    for (int signal : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1}) sigaddset(&handled, signal);
    ::sigprocmask(SIG_BLOCK, &handled, &original_mask_);
    signals_ = Fd(::signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!signals_.ok()) throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));
  }

  void spawn(Worker& worker) {
    int pipe_ends[2];
    if (::pipe2(pipe_ends, O_CLOEXEC) != 0)
      throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    Fd read_end(pipe_ends[0]), write_end(pipe_ends[1]);
    ::fcntl(read_end.get(), F_SETFL, O_NONBLOCK);  // looked at on every wake-up; never waited on
    pid_t supervisor = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) {
      log().error("worker {}: fork failed: {}; trying again in 1 s", worker.number, std::strerror(errno));
      worker.respawn_at = Clock::now() + std::chrono::seconds(1);
      return;
    }
    if (pid == 0) become_worker(worker, supervisor, std::move(write_end));
    worker.pid = pid;
    worker.ready = std::move(read_end);
    worker.serving = false;
    worker.stopped_in = nullptr;
    worker.respawn_at.reset();
  }

  // In the child: keeps only what this worker needs, and never returns.
  [[noreturn]] void become_worker(Worker& worker, pid_t supervisor, Fd ready) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a supervisor killed with -9 takes its workers along
    if (::getppid() != supervisor) std::_Exit(1);
    signals_ = Fd();
    metrics_.reset();
    journal_.reset();  // the worker's store opens its own
    for (auto& other : workers_) other.ready = Fd();
    WorkerStart start;
    start.number = worker.number;
    start.board = &board_;
    start.ready_fd = ready.release();
    start.signal_mask = original_mask_;
    start.placement.open_connections = board_.open_connections();
    start.placement.metrics = board_.loop_metrics();
    start.placement.first_loop = worker.first_loop;
    auto mine = [&](std::vector<Fd>& all, std::vector<Fd>& taken) {
      for (std::size_t i = 0; i < all.size(); ++i) {
        if (i >= worker.first_loop && i < worker.first_loop + worker.loops)
          taken.push_back(std::move(all[i]));
        else
          all[i] = Fd();
      }
    };
    mine(listeners_, start.placement.listeners);
    mine(tls_listeners_, start.placement.tls_listeners);
    std::exit(worker_main_(std::move(start)));
  }

  std::size_t alive() const {
    std::size_t count = 0;
    for (const auto& worker : workers_) count += worker.pid > 0;
    return count;
  }

  // Waits for a signal, a worker's "serving", or a due restart or deadline.
  void wait_for_events() {
    std::vector<pollfd> watched{{signals_.get(), POLLIN, 0}};
    for (const auto& worker : workers_)
      if (worker.pid > 0 && !worker.serving && worker.ready.ok())
        watched.push_back({worker.ready.get(), POLLIN, 0});
    if (metrics_) metrics_->watch(watched);
    ::poll(watched.data(), watched.size(), static_cast<int>(next_timeout().count()));
    if (metrics_) metrics_->serve(board_);
    on_signals();
    for (auto& worker : workers_)
      if (worker.pid > 0 && !worker.serving && worker.ready.ok()) check_ready(worker);
    on_timers();
  }

  milliseconds next_timeout() const {
    milliseconds timeout(1000);
    auto now = Clock::now();
    auto until = [&](Clock::time_point due) {
      timeout =
          std::min(timeout, std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(due - now)));
    };
    for (const auto& worker : workers_) {
      if (worker.respawn_at) until(*worker.respawn_at);
      // A load that may hang: looked at when its time is up, and often while
      // a worker starts, since its load may begin at any moment.
      if (auto due = load_due(worker)) until(*due + milliseconds(1));
      if (worker.pid > 0 && !worker.serving) until(now + milliseconds(50));
    }
    if (kill_at_) until(*kill_at_);
    return timeout;
  }

  void on_signals() {
    signalfd_siginfo info;
    while (::read(signals_.get(), &info, sizeof info) == sizeof info) {
      int signal = static_cast<int>(info.ssi_signo);
      if (signal == SIGCHLD) reap();
      if (signal == SIGHUP) on_hangup();
      if (signal == SIGUSR1) on_reopen();
      if ((signal == SIGTERM || signal == SIGINT) && !stopping_) on_stop(signal);
    }
  }

  void check_ready(Worker& worker) {
    char byte;
    ssize_t n = ::read(worker.ready.get(), &byte, 1);
    if (n < 0 && errno == EAGAIN) return;
    worker.ready = Fd();
    if (n != 1) return;  // it died first: reap() says so
    worker.serving = true;
    worker.deaths_before_serving = 0;
    if (!worker.report.empty())
      log().error("{}; restarted as pid {} in {} ms", worker.report, worker.pid, ms_since(worker.died));
    log_quarantine(worker);
    worker.report.clear();
    if (!announced_ &&
        std::all_of(workers_.begin(), workers_.end(), [](const Worker& w) { return w.serving; }))
      announce();
  }

  void announce() {
    announced_ = true;
    const auto& server = config_.server;
    std::string https = tls_port_ ? " and https://" + host_and_port(server.host, tls_port_) + "/" : "";
    log().info("listening on http://{}/{} with {} worker(s) in {} process(es), {} store at {}",
               host_and_port(server.host, port_), https, server.workers, server.processes,
               config_.store.backend, store_location(config_.store));
    if (metrics_)
      log().info("metrics at http://{}/metrics", host_and_port(config_.metrics.host, metrics_->port()));
  }

  void reap() {
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0)
      for (auto& worker : workers_)
        if (worker.pid == pid) on_death(worker, status);
  }

  void on_death(Worker& worker, int status) {
    // A replacement can say "serving", take a request and die before this
    // loop has read its word: it did serve, and must not be taken for one
    // that died while starting.
    if (!worker.serving && worker.ready.ok()) check_ready(worker);
    pid_t pid = std::exchange(worker.pid, -1);
    worker.ready = Fd();
    if (config_.store.backend == "files") store::clear_scratch_of(config_.store.root, pid);
    for (std::size_t loop = worker.first_loop; loop < worker.first_loop + worker.loops; ++loop)
      board_.open_connections()[loop].value.store(0);
    if (stopping_) {
      if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        log().warn("worker {} (pid {}) {} while stopping", worker.number, pid, describe_exit_status(status));
      return;
    }
    bool recycled = exited_to_be_recycled(status);  // not a crash: the threads stuck are in the log
    const board::CallRecord* call = recycled            ? nullptr
                                    : worker.stopped_in ? worker.stopped_in
                                                        : fatal_call(worker);
    metrics::add_shared(board_.events().worker_restarts);
    if (call != nullptr) metrics::add_shared(board_.events().plugin_crashes);
    std::string cause = describe_exit_status(status) + (recycled ? "" : " " + describe_call(call));
    if (!worker.report.empty()) log().error("{}; its replacement died before serving", worker.report);
    log_quarantine(worker);
    worker.report = "worker " + std::to_string(worker.number) + " (pid " + std::to_string(pid) + ") " + cause;
    worker.died = Clock::now();
    worker.quarantine = count_crash(call);
    clear_calls(worker);
    // A worker that dies before it serves (a plugin crashing as it loads)
    // is restarted ever later, so that it does not spin.
    if (!worker.serving) ++worker.deaths_before_serving;
    auto delay =
        worker.deaths_before_serving == 0
            ? milliseconds(0)
            : std::min(milliseconds(5000), milliseconds(100 << std::min(worker.deaths_before_serving, 6u)));
    worker.serving = false;
    if (delay.count() == 0) return spawn(worker);
    log().error("{}; it had not served yet: restarting in {} ms", worker.report, delay.count());
    log_quarantine(worker);
    worker.report.clear();
    worker.respawn_at = Clock::now() + delay;
  }

  // The plugin call the worker died in: the one its crash handler marked,
  // else the one in progress if there was only one (an _exit(), or a
  // SIGKILL, leaves no mark).
  const board::CallRecord* fatal_call(const Worker& worker) {
    const board::CallRecord* in_progress = nullptr;
    unsigned calls_in_progress = 0;
    for (std::size_t loop = worker.first_loop; loop < worker.first_loop + worker.loops; ++loop) {
      for (const auto& call : board_.all_calls(loop)) {
        if (call.fatal_signal.load() != 0 || call.exited.load() != 0) return &call;
        if (call.in_plugin.load() != 0 && calls_in_progress++ == 0) in_progress = &call;
      }
    }
    return calls_in_progress == 1 ? in_progress : nullptr;
  }

  static std::string describe_call(const board::CallRecord* call) {
    if (call == nullptr) return "outside plugin code";
    std::string plugin = std::string(call->file.view()) + " (" +
                         (call->name.view().empty() ? std::string()
                                                    : std::string(call->name.view()) + " " +
                                                          std::string(call->version.view()) + ", ") +
                         "generation " + std::to_string(call->generation) + ")";
    if (call->loading_since_ns.load() != 0) return "in plugin " + plugin + " as it was being loaded";
    return "in plugin " + plugin + " handling " + std::string(call->method.view()) + " " +
           std::string(call->target.view());
  }

  // When the plugin load the worker is in has run past handler_timeout_ms;
  // nothing when it loads none. The worker read steady_clock too, which is
  // CLOCK_MONOTONIC, the same in every process.
  std::optional<Clock::time_point> load_due(const Worker& worker) const {
    auto since = board_.load_call(worker.first_loop).loading_since_ns.load();
    if (since == 0) return std::nullopt;
    return Clock::time_point(std::chrono::nanoseconds(since)) + config_.limits.handler_timeout;
  }

  // A worker that has run one plugin's loading code (its library's
  // initialisers, its factory) for longer than handler_timeout_ms: it will
  // not serve, or take signals, until that returns. It is killed, and the
  // plugin charged with a crash, so that a plugin that always hangs there
  // ends quarantined, and not loaded.
  void stop_hung_loads() {
    auto now = Clock::now();
    for (auto& worker : workers_) {
      auto due = load_due(worker);
      if (worker.pid <= 0 || worker.stopped_in != nullptr || !due || now <= *due) continue;
      const board::CallRecord& load = board_.load_call(worker.first_loop);
      log().error(
          "worker {} (pid {}) has been loading plugin {} for more than {} ms "
          "(limits.handler_timeout_ms): killing it",
          worker.number, worker.pid, load.file.view(), config_.limits.handler_timeout.count());
      worker.stopped_in = &load;
      ::kill(worker.pid, SIGKILL);
    }
  }

  void clear_calls(const Worker& worker) {
    for (std::size_t loop = worker.first_loop; loop < worker.first_loop + worker.loops; ++loop) {
      for (auto& call : board_.all_calls(loop)) {
        call.in_plugin = 0;
        call.loading_since_ns = 0;
        call.fatal_signal = 0;
        call.exited = 0;
      }
    }
  }

  void log_quarantine(Worker& worker) {
    if (!worker.quarantine.empty()) log().error("{}", worker.quarantine);
    worker.quarantine.clear();
  }

  // Counts a crash in plugin code; returns what to log when it quarantines the plugin.
  std::string count_crash(const board::CallRecord* call) {
    if (call == nullptr) return {};
    auto& history = crashes_[call->file_identity];
    history.description = std::string(call->file.view());
    if (!call->name.view().empty())
      history.description +=
          " (" + std::string(call->name.view()) + " " + std::string(call->version.view()) + ")";
    bool loading = call->loading_since_ns.load() != 0;
    auto now = Clock::now();
    history.times.push_back(now);
    while (now - history.times.front() > config_.plugins.quarantine_window) history.times.pop_front();
    if (history.times.size() < config_.plugins.quarantine_after ||
        board_.quarantine().contains(call->file_identity))
      return {};
    if (!board_.quarantine().add(call->file_identity, loading))
      return fmt::format("plugin {} keeps crashing workers, but the quarantine is full ({} plugins)",
                         history.description, board::Quarantine::capacity);
    quarantined_.push_back({call->file_identity, std::string(call->file.view())});
    metrics::add_shared(board_.events().quarantines);
    write_quarantine_list();
    if (loading)
      return fmt::format(
          "plugin {} quarantined: {} crashes within {} s, the last as it was being loaded; it is not loaded "
          "until its file is replaced or verbd gets SIGHUP",
          history.description, history.times.size(), config_.plugins.quarantine_window.count());
    return fmt::format(
        "plugin {} quarantined: {} crashes within {} s; its methods answer 503 until its file is "
        "replaced or verbd gets SIGHUP",
        history.description, history.times.size(), config_.plugins.quarantine_window.count());
  }

  void on_hangup() {
    if (!quarantined_.empty()) log().info("SIGHUP: {} quarantined plugin(s) lifted", quarantined_.size());
    board_.quarantine().clear();
    quarantined_.clear();
    crashes_.clear();
    write_quarantine_list();
    for (const auto& worker : workers_)
      if (worker.pid > 0) ::kill(worker.pid, SIGHUP);
  }

  // logrotate moved the log files away: each process opens them again.
  void on_reopen() {
    if (std::string problem = log::reopen(); !problem.empty())
      log().error("SIGUSR1: {}; writing on to the file as it was", problem);
    for (const auto& worker : workers_)
      if (worker.pid > 0) ::kill(worker.pid, SIGUSR1);
  }

  void on_stop(int signal) {
    stopping_ = true;
    log().info("signal {}: stopping {} worker process(es), each finishing its requests in flight", signal,
               alive());
    for (auto& worker : workers_) {
      worker.respawn_at.reset();
      if (worker.pid > 0) ::kill(worker.pid, SIGTERM);
    }
    kill_at_ = Clock::now() + config_.limits.shutdown_drain + std::chrono::seconds(2);
  }

  void on_timers() {
    watch_shared_files();
    if (!stopping_) stop_hung_loads();
    auto now = Clock::now();
    settle_journal_when_due(now);
    for (auto& worker : workers_)
      if (worker.respawn_at && *worker.respawn_at <= now && !stopping_) spawn(worker);
    if (kill_at_ && *kill_at_ <= now) {
      for (const auto& worker : workers_)
        if (worker.pid > 0) {
          log().warn("worker {} (pid {}) did not stop in time: killing it", worker.number, worker.pid);
          ::kill(worker.pid, SIGKILL);
        }
      kill_at_.reset();
    }
  }

  // The journal's records are settled every few seconds even when no write
  // fills it, so that a replay after a crash never makes again a write
  // older than that over a file someone changed by hand since. A journal
  // removed by hand is retired at once, even when no write comes to find it.
  void settle_journal_when_due(Clock::time_point now) {
    if (!journal_) return;
    journal_->retire_if_unlinked();
    if (now < settle_at_) return;
    if (journal_->holds_records()) journal_->settle();  // a failure is logged; the records stay for a replay
    settle_at_ = now + journal_settle_interval;
  }

  // Someone cleaning the scratch folder while verbd runs: its processes go
  // on with the files pinned at start (store/shared_files.hpp), which the
  // names no longer lead to. Said once for each file whose name changed.
  void watch_shared_files() {
    if (shared_files_.empty()) return;
    auto now = store::shared_files_of(config_.store.root);
    for (std::size_t i = 0; i < now.size(); ++i) {
      if (now[i].same_file(shared_files_[i])) continue;
      bool removed = now[i].inode == 0;
      log().warn(
          "{}/{}/{} was {} while verbd ran: its processes go on sharing {} through the file they "
          "opened, until they stop; the next start {}",
          config_.store.root.string(), store::reserved_folder, now[i].name, removed ? "removed" : "replaced",
          now[i].role, removed ? "makes a new one" : "uses the one there now");
      shared_files_[i] = now[i];
    }
  }

  // Replaced whole (written aside, then renamed), so that --check never
  // reads half of it; removed when nothing is quarantined.
  void write_quarantine_list() {
    if (config_.store.backend != "files") return;
    auto file = quarantine_list(config_);
    std::error_code ignored;
    if (quarantined_.empty()) {
      std::filesystem::remove(file, ignored);
      return;
    }
    auto aside = file;
    aside += ".new";
    {
      std::ofstream out(aside, std::ios::trunc);
      for (const auto& [key, name] : quarantined_)
        out << key.device << '\t' << key.inode << '\t' << key.size << '\t' << key.modified_ns << '\t' << name
            << '\n';
    }
    std::filesystem::rename(aside, file, ignored);
  }

  const config::Config& config_;
  const WorkerMain& worker_main_;
  board::Board board_;
  std::vector<Fd> listeners_, tls_listeners_;
  std::optional<MetricsListener> metrics_;
  std::uint16_t port_ = 0, tls_port_ = 0;
  std::vector<Worker> workers_;
  Fd signals_;
  sigset_t original_mask_{};
  bool stopping_ = false;
  bool announced_ = false;
  std::optional<Clock::time_point> kill_at_;
  std::map<FileIdentity, CrashHistory> crashes_;
  std::vector<std::pair<FileIdentity, std::string>> quarantined_;
  std::vector<store::SharedFile> shared_files_;  // as pinned at start, or as last logged
  std::optional<store::Journal> journal_;        // the files store's, settled from here too
  static constexpr auto journal_settle_interval = std::chrono::seconds(5);
  Clock::time_point settle_at_ = Clock::now() + journal_settle_interval;
};

}  // namespace

int supervise(const config::Config& config, const WorkerMain& worker_main) {
  Supervisor supervisor(config, worker_main);
  return supervisor.run();
}

std::filesystem::path quarantine_list(const config::Config& config) {
  return config.store.root / store::reserved_folder / "quarantined";
}

std::vector<FileIdentity> read_quarantine_list(const config::Config& config) {
  std::vector<FileIdentity> keys;
  if (config.store.backend != "files") return keys;
  std::ifstream in(quarantine_list(config));
  FileIdentity key;
  std::string name;
  while (in >> key.device >> key.inode >> key.size >> key.modified_ns && std::getline(in, name))
    keys.push_back(key);
  return keys;
}

}  // namespace verbd::supervisor
