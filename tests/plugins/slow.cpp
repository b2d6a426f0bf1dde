// SLOW stands in for a plugin that waits on something slow (a database, a
// remote API), written the plain synchronous way:
//   /sleep/N   sleeps N milliseconds, then answers 200 "slept N"
//   /hang      never returns (until its process ends)
//   /pid       answers 200 with the worker's process id
// With `startup_ms = N` in [plugins.slow], making it takes N ms; with
// `teardown_ms = N`, letting it go does, after which it writes the file
// `teardown_mark`, if set.
// It serves REPORT the same way: a method wrk knows (wrk refuses to send one
// its HTTP parser does not), for tests/load/slow_plugin_cost.sh.
#include <verbd/plugin.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>

namespace {

struct Slow {
  explicit Slow(verbd::Host& host)
      : teardown_ms(host.setting("teardown_ms", std::int64_t{0})),
        teardown_mark(host.setting("teardown_mark", "")) {
    std::this_thread::sleep_for(std::chrono::milliseconds(host.setting("startup_ms", std::int64_t{0})));
  }
  ~Slow() {
    std::this_thread::sleep_for(std::chrono::milliseconds(teardown_ms));
    if (!teardown_mark.empty()) std::ofstream(teardown_mark) << "torn down\n";
  }
  Slow(const Slow&) = delete;
  Slow& operator=(const Slow&) = delete;

  void handle(const verbd::Request& request, verbd::Response& response) const {
    auto path = request.path();
    if (path == "/hang")
      while (true) std::this_thread::sleep_for(std::chrono::hours(1));
    response.status(200);
    if (path == "/pid") return response.append(std::to_string(::getpid()));
    if (path.substr(0, 7) != "/sleep/") return response.append("awake");
    std::string milliseconds(path.substr(7));
    std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(milliseconds)));
    response.append("slept " + milliseconds);
  }

  std::int64_t teardown_ms;
  std::string teardown_mark;
};

}  // namespace

VERBD_PLUGIN(Slow, "slow", "1.0.0", "SLOW", "REPORT");
