// WebDAV's preconditions, which the host checks once for every request
// before it calls a plugin, so that no plugin checks them itself and a
// plugin written without WebDAV in mind still respects a lock:
//
//   - Destination (RFC 4918 §10.3): cleaned like the request's target, for
//     verbd_request.destination; 400 when it does not clean, 502 when it
//     names another server.
//   - If (RFC 4918 §10.4): lists of state tokens and entity tags, tagged
//     with the resource they are about or about the request's; the header
//     holds when one list does, and 412 answers it when none does.
//   - Locks (RFC 4918 §7): a request that would change what a lock covers
//     is answered 423 unless its If header names that lock's token. What a
//     method changes is said in <verbd/plugin.h> ("Locks and the If header").
//     The store services check again, for each change a plugin makes
//     (dispatch/services.hpp, LockScope), with the same tokens.
#pragma once

#include "http/request.hpp"
#include "http/response.hpp"
#include "store/store.hpp"

#include <string>
#include <vector>

namespace verbd::dispatch {

// The host's checks before a plugin is called (and before the body of an
// "Expect: 100-continue" is asked for), for the request on `path` (clean):
// fills `destination` (empty when the request has none); then, with
// `check_conditions` (in the worker), the If field and the locks. False,
// with `response` answered, when the request is refused: 400 or 502 for
// its Destination, 412 or 423 (or 400 for an If field that does not parse).
bool checks_pass(const http::Request& request, const std::string& path, std::string& destination,
                 bool check_conditions, store::Store& store, http::Response& response);

// The lock tokens the request's If field submits (RFC 4918 §10.4): those
// its lists name, but for those negated. None when it does not parse.
std::vector<std::string> submitted_tokens(const http::Request& request);

// 423 (RFC 4918 §9.1.1's lock-token-submitted) for a change that `lock`
// protects.
void answer_locked(const store::Lock& lock, http::Response& response);

}  // namespace verbd::dispatch
