// CRASH ends the worker process it runs in, the way its path says:
//   /null       writes through a null pointer (SIGSEGV)
//   /abort      calls abort() (SIGABRT)
//   /terminate  lets an exception escape a noexcept function (std::terminate, SIGABRT)
//   /recurse    recurses without end until the stack overflows (SIGSEGV)
//   /exit       calls exit(3)
// /pid answers 200 with the worker's process id, so that a test knows which
// worker a connection is on; any other path answers 200 "alive".
// With `crash_when_made = true` in [plugins.crash], its factory crashes.
#include <verbd/plugin.hpp>

#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>

namespace {

int* volatile nowhere = nullptr;

// Not checked by UndefinedBehaviorSanitizer, which would abort first: the
// fault itself must happen, in every build.
[[gnu::no_sanitize("undefined")]] void write_through_null() { *nowhere = 1; }

void throw_something() { throw std::runtime_error("escaped"); }
void (*volatile thrower)() = throw_something;  // volatile: the compiler cannot see it throws
void escape_noexcept() noexcept { thrower(); }

volatile bool go_on = true;  // always true, but the compiler cannot know it

int recurse(int depth) {
  volatile char frame[1024];
  frame[0] = static_cast<char>(depth);
  if (!go_on) return frame[0];
  return recurse(depth + 1) + frame[0];  // not a tail call: the frame stays
}

struct Crash {
  explicit Crash(verbd::Host& host) {
    if (host.setting("crash_when_made", false)) write_through_null();
  }

  void handle(const verbd::Request& request, verbd::Response& response) const {
    auto path = request.path();
    if (path == "/null") write_through_null();
    if (path == "/abort") std::abort();
    if (path == "/terminate") escape_noexcept();
    if (path == "/recurse") response.status(200 + recurse(0));
    if (path == "/exit") std::exit(3);
    response.status(200);
    response.append(path == "/pid" ? std::to_string(::getpid()) : "alive");
  }
};

}  // namespace

VERBD_PLUGIN(Crash, "crash", "1.0.0", "CRASH");
