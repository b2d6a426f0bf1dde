#include "process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

extern char** environ;

namespace verbd::test {

std::string slurp(const std::filesystem::path& file) {
  std::ifstream in(file);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<pid_t> plugin_processes_below(pid_t supervisor) {
  auto parent_of = [](const std::string& pid) {
    std::istringstream stat(slurp("/proc/" + pid + "/stat"));
    std::string skip, state, parent;
    std::getline(stat, skip, ')');  // past the name, which may hold spaces
    stat >> state >> parent;
    return state == "Z" ? std::string() : parent;
  };
  std::vector<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string parent = parent_of(pid);
    if (parent.empty() || parent_of(parent) != std::to_string(supervisor)) continue;
    if (slurp(entry.path() / "cmdline").find(std::string("--serve-plugin\0", 15)) != std::string::npos)
      found.push_back(std::stoi(pid));
  }
  return found;
}

Process::Process(const TempFolder& folder, const std::string& program, std::vector<std::string> arguments,
                 const std::string& input, Limits limits)
    : folder_(folder) {
  static std::atomic<int> count{0};
  tag_ = "process-" + std::to_string(++count);
  arguments.insert(arguments.begin(), program);
  std::vector<char*> argv;
  for (auto& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  std::string out = (folder / (tag_ + ".out")).string(), err = (folder / (tag_ + ".err")).string();
  posix_spawn_file_actions_addopen(&actions, 0, input.empty() ? "/dev/null" : input.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  // posix_spawn cannot set limits, but the child inherits ours: lower the
  // soft limits around the spawn (tests that use this run no other thread).
  rlimit saved_files{}, saved_size{};
  ::getrlimit(RLIMIT_NOFILE, &saved_files);
  ::getrlimit(RLIMIT_FSIZE, &saved_size);
  if (limits.max_files != 0) {
    rlimit lowered{limits.max_files, saved_files.rlim_max};
    ::setrlimit(RLIMIT_NOFILE, &lowered);
  }
  if (limits.max_file_bytes != 0) {
    rlimit lowered{limits.max_file_bytes, saved_size.rlim_max};
    ::setrlimit(RLIMIT_FSIZE, &lowered);
  }
  if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
  ::setrlimit(RLIMIT_NOFILE, &saved_files);
  ::setrlimit(RLIMIT_FSIZE, &saved_size);
  posix_spawn_file_actions_destroy(&actions);
}

Process::~Process() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

int Process::exit_code() {
  if (pid_ <= 0) return -1;
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void Process::signal(int number) {
  if (pid_ > 0) ::kill(pid_, number);
}

std::string Process::out() const { return slurp(folder_ / (tag_ + ".out")); }
std::string Process::err() const { return slurp(folder_ / (tag_ + ".err")); }

bool Process::err_shows(const std::string& pattern) const {
  std::regex wanted(pattern);
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
       std::chrono::steady_clock::now() < deadline;
       std::this_thread::sleep_for(std::chrono::milliseconds(10)))
    if (std::regex_search(err(), wanted)) return true;
  return false;
}

double Process::cpu_seconds() const {
  std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
  std::string field;
  for (int i = 1; i <= 13 && stat >> field; ++i) {
  }
  long user = 0, system = 0;
  stat >> user >> system;
  return double(user + system) / double(::sysconf(_SC_CLK_TCK));
}

std::uint16_t Process::port() const {
  std::regex listening("listening on http://127\\.0\\.0\\.1:([0-9]+)/");
  for (int i = 0; i < 400; ++i) {  // 10 s: a start may take a few restarts (a plugin crashing as it loads)
    std::smatch match;
    std::string log = err();
    if (std::regex_search(log, match, listening)) return static_cast<std::uint16_t>(std::stoi(match[1]));
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return 0;
}

}  // namespace verbd::test
