// How a child process ended, in words: "killed by SIGSEGV", "exited with status 3".
#pragma once

#include <string.h>
#include <sys/wait.h>

#include <string>

namespace verbd {

// A worker process's exit status when it asks to be replaced: too many of
// its plugin threads are stuck (dispatch/plugin_pool.hpp), and only a new
// process frees them. (EX_TEMPFAIL)
inline constexpr int exit_to_be_recycled = 75;

inline bool exited_to_be_recycled(int status) {
  return WIFEXITED(status) && WEXITSTATUS(status) == exit_to_be_recycled;
}

inline std::string describe_exit_status(int status) {
  if (WIFSIGNALED(status)) {
    const char* name = ::sigabbrev_np(WTERMSIG(status));
    return "killed by " + (name ? "SIG" + std::string(name) : "signal " + std::to_string(WTERMSIG(status)));
  }
  if (exited_to_be_recycled(status)) return "exited to be recycled, its plugin threads stuck";
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

}  // namespace verbd
