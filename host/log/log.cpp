#include "log/log.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace verbd::log {
namespace {

// A file written one line per write(2), with O_APPEND: lines of several
// processes never interleave, and each goes whole or not at all.
class LineFile final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit LineFile(std::filesystem::path path) : path_(std::move(path)), fd_(open_file()) {
    if (fd_ < 0)
      throw std::runtime_error("cannot open the log file " + path_.string() + ": " + std::strerror(errno));
  }
  ~LineFile() override { ::close(fd_); }

  // A new file of the same name takes the old one's descriptor number
  // (dup2 is atomic), so that a write in flight goes to one or the other.
  std::string reopen() {
    int fresh = open_file();
    if (fresh < 0) return "cannot reopen " + path_.string() + ": " + std::strerror(errno);
    ::dup2(fresh, fd_);
    ::close(fresh);
    return {};
  }

 private:
  int open_file() const { return ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640); }

  void sink_it_(const spdlog::details::log_msg& message) override {
    spdlog::memory_buf_t line;
    formatter_->format(message, line);
    const char* at = line.data();
    std::size_t left = line.size();
    while (left > 0) {  // a regular file takes it whole; a pipe might not
      ssize_t n = ::write(fd_, at, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // a full disk: the line is lost, the server goes on
      at += n;
      left -= static_cast<std::size_t>(n);
    }
  }
  void flush_() override {}

  std::filesystem::path path_;
  int fd_;
};

std::mutex registry_mutex;
std::string pattern = "%Y-%m-%d %H:%M:%S.%e [%n] %^%l%$: %v";
config::AccessFormat format = config::AccessFormat::combined;
std::shared_ptr<spdlog::sinks::sink> error_sink, access_sink;
std::shared_ptr<LineFile> error_file, access_file;

// A pattern belongs to a sink, not to a logger: the access log, whose lines
// look different, has a stderr sink of its own. Each writes a line with one
// write(2), so their lines do not mix either.
std::shared_ptr<spdlog::sinks::sink> stderr_sink() {
  static auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  return sink;
}
std::shared_ptr<spdlog::sinks::sink> access_stderr_sink() {
  static auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  return sink;
}

// Combined and JSON lines are whole as they are; verbd's own carry the
// usual time, process and name.
std::string access_pattern() { return format == config::AccessFormat::verbd ? pattern : "%v"; }

spdlog::logger& make_logger(const std::string& who) {
  bool is_access = who == "access";
  auto sink = is_access ? access_sink : error_sink;
  if (!sink) sink = is_access ? access_stderr_sink() : stderr_sink();  // (before setup())
  auto logger = std::make_shared<spdlog::logger>(who, sink);
  spdlog::initialize_logger(logger);  // takes the global level and pattern
  logger->set_pattern(is_access ? access_pattern() : pattern);
  return *logger;
}

}  // namespace

void setup(const config::Log& settings) {
  std::lock_guard lock(registry_mutex);
  spdlog::set_level(settings.level);
  format = settings.access_format;
  error_file = settings.error_file.empty() ? nullptr : std::make_shared<LineFile>(settings.error_file);
  access_file = settings.access_file.empty() ? nullptr : std::make_shared<LineFile>(settings.access_file);
  error_sink = error_file ? error_file : stderr_sink();
  access_sink = access_file ? access_file : access_stderr_sink();
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& logger) {  // those made before now
    bool is_access = logger->name() == "access";
    logger->sinks() = {is_access ? access_sink : error_sink};
    logger->set_pattern(is_access ? access_pattern() : pattern);
  });
}

std::string reopen() {
  std::string problems;
  for (const auto& file : {error_file, access_file}) {
    if (!file) continue;
    std::string problem = file->reopen();
    if (!problem.empty()) problems += (problems.empty() ? "" : "; ") + problem;
  }
  return problems;
}

void name_process(const std::string& name) {
  std::lock_guard lock(registry_mutex);
  pattern = "%Y-%m-%d %H:%M:%S.%e " + name + " [%n] %^%l%$: %v";
  spdlog::set_pattern(pattern);
  if (auto existing = spdlog::get("access")) existing->set_pattern(access_pattern());
}

spdlog::logger& get(const std::string& who) {
  std::lock_guard lock(registry_mutex);
  if (auto existing = spdlog::get(who)) return *existing;
  return make_logger(who);
}

spdlog::logger& access() { return get("access"); }

config::AccessFormat access_format() { return format; }

}  // namespace verbd::log
