// What answers a request once it is parsed. A connection (net/) calls it and
// knows nothing more of it; verbd's dispatch layer (dispatch/) answers with
// plugins, a test may answer with anything.
//
// Each worker thread has one Responder, made for it by a ResponderFactory,
// and calls it for every request of its connections, one at a time. So a
// Responder may keep buffers from one request to the next, and needs no lock.
//
// An answer may take time (a plugin that blocks): then the Responder hands
// the request to another thread and returns a Pending, and the connection
// waits for it without holding up the worker's other connections.
#pragma once

#include "http/parser.hpp"
#include "http/request.hpp"
#include "http/response.hpp"

#include <functional>
#include <memory>

namespace verbd::http {

// An answer being prepared on another thread.
class Pending {
 public:
  virtual ~Pending() = default;

  // `ready` is called once, from any thread, when the answer is ready (at
  // once if it is already); it must not take the answer there, only arrange
  // for take() on the connection's own thread.
  virtual void when_ready(std::function<void()> ready) = 0;
  // On the connection's thread, after `ready`: moves the answer into `response`.
  virtual void take(Response& response) = 0;
};

// As a Spooler, it says where a large body goes: where its store can take it.
class Responder : public Spooler {
 public:
  virtual ~Responder() = default;

  // For a request whose head is in and whose body is not: true, with the
  // refusal in `response`, when it would be refused whatever the body, so
  // that an "Expect: 100-continue" is answered with the refusal instead of
  // 100 (Continue). Never calls a plugin.
  virtual bool refuses_before_body(const Request& head, Response& response) = 0;
  // Fills `response` for a complete request; resets it first.
  virtual void answer(const Request& request, Response& response) = 0;
  // As answer(), or, when the answer may take time, returns a Pending that
  // will carry it (and may have taken the request's body). Null: answered.
  virtual std::shared_ptr<Pending> answer_or_defer(Request& request, Response& response) {
    answer(request, response);
    return nullptr;
  }
  // The worker is ending: no Pending it returned calls `ready` after this,
  // and they let go of what `ready` held.
  virtual void abandon_pending() noexcept {}
  // A file for a body too large for memory; by default an unnamed one in
  // the temporary folder.
  Fd open_spool() override { return open_unnamed_file(temporary_folder()); }
  // Called now and then by the worker, between requests: lets go of what
  // need not be kept (a plugin generation that is no longer current).
  virtual void release() noexcept {}
};

// Makes the Responder of one worker.
using ResponderFactory = std::function<std::unique_ptr<Responder>()>;

}  // namespace verbd::http
