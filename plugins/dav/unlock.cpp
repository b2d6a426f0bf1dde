// UNLOCK (RFC 4918 §9.11): releases the lock named by the Lock-Token field,
// which must cover the request's path. 204 when released; 409
// lock-token-matches-request-uri when no such lock covers it.
#include "dav.hpp"

namespace {

class UnlockPlugin {
 public:
  explicit UnlockPlugin(verbd::Host& host) : locks_(host.locks()) {}

  void handle(const verbd::Request& request, verbd::Response& response) const {
    auto tokens = dav::tokens_in(request.header("Lock-Token").value_or(""));
    if (tokens.size() != 1) return response.status(400);
    if (locks_.release(request.path(), tokens.front()) != verbd::Status::ok)
      return dav::refuse(response, 409, "lock-token-matches-request-uri");
    response.status(204);
  }

 private:
  const verbd::Locks& locks_;
};

}  // namespace

VERBD_PLUGIN(UnlockPlugin, "unlock", "1.0.0", "UNLOCK");
