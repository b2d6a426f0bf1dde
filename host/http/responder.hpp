// What answers a request once it is parsed. A connection (net/) calls it and
// knows nothing more of it; verbd's dispatch layer (dispatch/) answers with
// plugins, a test may answer with anything.
//
// Each worker thread has one Responder, made for it by a ResponderFactory,
// and calls it for every request of its connections, one at a time. So a
// Responder may keep buffers from one request to the next, and needs no lock.
#pragma once

#include "http/request.hpp"
#include "http/response.hpp"

#include <functional>
#include <memory>

namespace verbd::http {

class Responder {
 public:
  virtual ~Responder() = default;

  // For a request whose head is in and whose body is not: false when
  // answer() would refuse it whatever the body, so that an
  // "Expect: 100-continue" is answered with the refusal instead.
  virtual bool accepts(const Request& head) = 0;
  // Fills `response` for a complete request; resets it first.
  virtual void answer(const Request& request, Response& response) = 0;
  // Called now and then by the worker, between requests: lets go of what
  // need not be kept (a plugin generation that is no longer current).
  virtual void release() noexcept {}
};

// Makes the Responder of one worker.
using ResponderFactory = std::function<std::unique_ptr<Responder>()>;

}  // namespace verbd::http
