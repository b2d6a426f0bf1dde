// How a child process ended, in words: "killed by SIGSEGV", "exited with status 3".
#pragma once

#include <string.h>
#include <sys/wait.h>

#include <string>

namespace verbd {

inline std::string describe_exit_status(int status) {
  if (WIFSIGNALED(status)) {
    const char* name = ::sigabbrev_np(WTERMSIG(status));
    return "killed by " + (name ? "SIG" + std::string(name) : "signal " + std::to_string(WTERMSIG(status)));
  }
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

}  // namespace verbd
