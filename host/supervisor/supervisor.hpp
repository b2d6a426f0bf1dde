// The supervisor: verbd's first process. It opens the listening sockets and
// the board (board/board.hpp), then forks the worker processes that serve
// on them. When one dies it says why, in one line — the signal or exit
// status, and the plugin and request the worker was in, if it was in one —
// forks another in its place, and quarantines a plugin that keeps crashing
// workers. It never loads a plugin: code that may crash runs in workers only.
//
// The listening sockets never close: connections that arrive while a worker
// is being replaced wait in its socket's backlog, and the other workers'
// connections are not touched.
//
// Signals: SIGTERM and SIGINT are passed on to every worker, which finishes
// its requests in flight and exits; the supervisor exits when all have.
// SIGHUP lifts every quarantine and is passed on: each worker reads the
// config again and reloads its plugins.
#pragma once

#include "board/board.hpp"
#include "config/config.hpp"
#include "net/server.hpp"

#include <signal.h>

#include <filesystem>
#include <functional>
#include <vector>

namespace verbd::supervisor {

// What a worker process is given.
struct WorkerStart {
  unsigned number = 0;  // 1..processes, as the logs name it
  net::Placement placement;
  board::Board* board = nullptr;
  int ready_fd = -1;  // one byte written here says the worker serves
  // The signals arrive blocked, so that none is lost or takes its default
  // action before the worker has its handlers; restore this mask then.
  sigset_t signal_mask{};
};

// Runs one worker process to its end; returns its exit code.
using WorkerMain = std::function<int(WorkerStart)>;

// Runs verbd under supervision until SIGTERM or SIGINT; returns the exit
// code. Throws std::runtime_error when it cannot listen.
int supervise(const config::Config& config, const WorkerMain& worker_main);

// The file, in the files store's reserved folder, that lists the plugins
// quarantined by the running verbd, for `verbd --check`; one per line:
// device, inode, size, modification time (ns), file name, tab-separated.
std::filesystem::path quarantine_list(const config::Config& config);
// The keys in that file, or none (no file, or the memory store).
std::vector<FileIdentity> read_quarantine_list(const config::Config& config);

}  // namespace verbd::supervisor
