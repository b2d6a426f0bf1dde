// A program of this project (verbd, verb) run as a child process, its
// stdout and stderr going to files in a test folder.
#pragma once

#include "temp_folder.hpp"

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace verbd::test {

std::string slurp(const std::filesystem::path& file);

// The live processes serving isolated plugins (`verbd --serve-plugin`) for
// the worker processes of the verbd whose supervisor is `supervisor`.
std::vector<pid_t> plugin_processes_below(pid_t supervisor);

// Limits for a child process, where not 0.
struct Limits {
  rlim_t max_files = 0;       // RLIMIT_NOFILE
  rlim_t max_file_bytes = 0;  // RLIMIT_FSIZE
};

class Process {
 public:
  // `program` gets `arguments`; `input`, when not empty, is a file for its stdin.
  Process(const TempFolder& folder, const std::string& program, std::vector<std::string> arguments,
          const std::string& input = {}, Limits limits = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  int exit_code();  // waits for it
  void signal(int number);
  std::string out() const;
  std::string err() const;
  // Whether stderr has a line matching `pattern` (a std::regex), waiting up to 5 s for it.
  bool err_shows(const std::string& pattern) const;
  double cpu_seconds() const;  // user + system so far
  pid_t pid() const { return pid_; }
  // The port from verbd's "listening on http://127.0.0.1:PORT/" line; 0 if none came.
  std::uint16_t port() const;

 private:
  const TempFolder& folder_;
  std::string tag_;  // names this process's output files
  pid_t pid_ = -1;
};

}  // namespace verbd::test
