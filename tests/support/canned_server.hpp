// A tiny server for testing the client: on 127.0.0.1 (ephemeral port), it
// accepts one connection and plays a fixed script of steps on it — read a
// request head, send bytes, close — whatever verbd itself would answer.
#pragma once

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace verbd::test {

struct Step {
  enum Kind { read_head, read_bytes, send, close, stall } kind;
  std::string bytes;  // send: what to send; read_bytes: how many, as text
};

class CannedServer {
 public:
  explicit CannedServer(std::vector<Step> steps);
  ~CannedServer();
  std::uint16_t port() const { return port_; }
  // What the client sent, once the script is over.
  std::string received();

 private:
  void play();

  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::vector<Step> steps_;
  std::string received_;
  std::thread thread_;
};

}  // namespace verbd::test
