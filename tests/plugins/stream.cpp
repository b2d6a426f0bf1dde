// STREAM sends its bodies as it makes them (response_send, response_file),
// for the tests of streamed responses. It serves HEAD too, so that a HEAD of
// a streamed body can be asked of it.
//   /pieces/N/SIZE   N pieces of SIZE bytes ('a' to 'z' in turn), after "X-Pieces: N"
//   /slow/N/MS       N pieces "piece I\n", MS milliseconds apart
//   /wait            "before " appended, then "first " sent, then waits (up to 10 s) until
//                    the store holds /go, then "second"
//   /fail            sends "partial", then fails
//   /late-header     sends "x", then sets a field: a broken contract
//   /stall/MS        sends "a", then sleeps MS milliseconds, then "b"
//   /gone            sends 64 KiB pieces until nobody takes them, then stores
//                    /gone-seen with the number taken
//   /file/N          a file it makes (unnamed, in /tmp), N lines "line I\n", sent as a file
//   /status/204      a 204, then a piece that must not go
//   /empty           the head only, then an empty body
#include <verbd/plugin.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;

// The I-th number of a path "/word/A/B".
std::size_t number(std::string_view path, int index) {
  for (int i = 0; i <= index; ++i) path.remove_prefix(path.find('/') + 1);
  return std::stoul(std::string(path.substr(0, path.find('/'))));
}

struct Stream {
  explicit Stream(verbd::Host& host) : store(host.store()) {}

  void handle(const verbd::Request& request, verbd::Response& response) const {
    std::string_view path = request.path();
    response.status(200);
    response.header("Content-Type", "text/plain");
    if (path.starts_with("/pieces/")) return pieces(number(path, 1), number(path, 2), response);
    if (path.starts_with("/slow/")) return slow(number(path, 1), number(path, 2), response);
    if (path == "/wait") return wait(response);
    if (path == "/fail") {
      response.send("partial");
      throw std::runtime_error("failing after the head went, on purpose");
    }
    if (path == "/late-header") {
      response.send("x");
      return response.header("X-Late", "1");
    }
    if (path.starts_with("/stall/")) {
      response.send("a");
      std::this_thread::sleep_for(std::chrono::milliseconds(number(path, 1)));
      response.send("b");
      return;
    }
    if (path == "/gone") return until_gone(response);
    if (path.starts_with("/file/")) return file(number(path, 1), response);
    if (path == "/status/204") {
      response.status(204);
      if (response.send("must not go") != verbd::Status::ok) throw std::runtime_error("send refused");
      return;
    }
    if (path == "/empty") response.send("");
  }

  static void pieces(std::size_t count, std::size_t size, verbd::Response& response) {
    response.header("X-Pieces", std::to_string(count));
    for (std::size_t i = 0; i < count; ++i)
      if (response.send(std::string(size, char('a' + i % 26))) != verbd::Status::ok) return;
  }

  static void slow(std::size_t count, std::size_t milliseconds, verbd::Response& response) {
    for (std::size_t i = 0; i < count; ++i) {
      if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(milliseconds));
      if (response.send("piece " + std::to_string(i) + "\n") != verbd::Status::ok) return;
    }
  }

  void wait(verbd::Response& response) const {
    response.append("before ");
    response.send("first ");
    verbd::Entry entry;
    for (int i = 0; i < 1000 && store.stat("/go", entry) != verbd::Status::ok; ++i)
      std::this_thread::sleep_for(10ms);
    response.send("second");
  }

  void until_gone(verbd::Response& response) const {
    const std::string piece(64 * 1024, 'g');
    std::size_t taken = 0;
    while (taken < 1'000'000 && response.send(piece) == verbd::Status::ok) ++taken;
    verbd::Entry entry;
    bool created = false;
    store.write("/gone-seen", std::to_string(taken), "text/plain", verbd::WriteMode::replace, entry, created);
  }

  static void file(std::size_t lines, verbd::Response& response) {
    int fd = ::open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot make a file in /tmp");
    for (std::size_t i = 0; i < lines; ++i) {
      std::string line = "line " + std::to_string(i) + "\n";
      if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
        ::close(fd);
        throw std::runtime_error("cannot write the file");
      }
    }
    if (response.file(fd) != verbd::Status::ok) throw std::runtime_error("the host refused the file");
  }

  const verbd::Store& store;
};

}  // namespace

VERBD_PLUGIN(Stream, "stream", "1.0.0", "STREAM", "HEAD");
