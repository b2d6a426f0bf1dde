#include "log/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>

namespace verbd::log {
namespace {

std::mutex registry_mutex;
std::string pattern = "%Y-%m-%d %H:%M:%S.%e [%n] %^%l%$: %v";

std::shared_ptr<spdlog::sinks::sink> shared_sink() {
  static auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  return sink;
}

}  // namespace

void setup(spdlog::level::level_enum level) {
  std::lock_guard lock(registry_mutex);
  spdlog::set_level(level);
}

void name_process(const std::string& name) {
  std::lock_guard lock(registry_mutex);
  pattern = "%Y-%m-%d %H:%M:%S.%e " + name + " [%n] %^%l%$: %v";
  spdlog::set_pattern(pattern);
}

spdlog::logger& get(const std::string& who) {
  std::lock_guard lock(registry_mutex);
  if (auto existing = spdlog::get(who)) return *existing;
  auto logger = std::make_shared<spdlog::logger>(who, shared_sink());
  spdlog::initialize_logger(logger);  // takes the global level and pattern
  logger->set_pattern(pattern);
  return *logger;
}

}  // namespace verbd::log
