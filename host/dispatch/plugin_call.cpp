#include "dispatch/plugin_call.hpp"

#include "common/metrics.hpp"
#include "dispatch/conditions.hpp"
#include "dispatch/isolated.hpp"
#include "http/range.hpp"
#include "log/log.hpp"

#include <verbd/detail/rules.hpp>
#include <verbd/detail/text.hpp>

#include <optional>

namespace verbd::dispatch {
namespace {

spdlog::logger& log() {
  static auto& logger = verbd::log::get("plugins");
  return logger;
}

// What the supervisor reports if the worker dies in the plugin. The
// plugin's description is copied only when the record holds another's.
void note_call(board::CallRecord& record, const CallSubject& subject, const http::Request& request) noexcept {
  const plugin::Plugin& plugin = subject.plugin;
  if (record.generation != subject.generation || record.file_identity != plugin.identity()) {
    record.generation = subject.generation;
    record.file_identity = plugin.identity();
    record.file.set(plugin.file().filename().native());
    record.name.set(plugin.name());
    record.version.set(plugin.version());
  }
  record.method.set(request.method);
  record.target.set(request.target);
}

// The request as <verbd/plugin.h> has it; it points into `request` and
// `scratch`, valid until the next call.
verbd_request c_request(const http::Request& request, std::string_view allow, CallScratch& scratch) {
  using detail::str;
  scratch.headers.clear();
  for (const auto& field : request.headers) scratch.headers.push_back({str(field.name), str(field.value)});
  verbd_request c{};
  c.struct_size = sizeof c;
  c.version = request.version;
  c.method = str(request.method);
  c.target = str(request.target);
  c.path = str(scratch.target.path);
  c.query = str(scratch.target.query);
  c.headers = scratch.headers.data();
  c.header_count = scratch.headers.size();
  c.body = str(request.body);
  c.allow = str(allow);
  scratch.content.in_memory = request.body;
  scratch.content.file = {request.body_file.get(), request.body_file_size, false};
  c.body_size = request.body_size();
  c.content = scratch.content.handle();
  c.destination = str(scratch.destination);
  return c;
}

// The head has gone: the body ends whole, or cut short if the plugin failed.
void end_streamed_body(const plugin::Plugin& plugin, const http::Request& request, const Draft& draft,
                       std::int32_t status) {
  bool complete = status == VERBD_OK && !draft.broken;
  if (!complete)
    log().error("{} ({}) on {} {}: {} after its body had begun: the body is cut short, the connection closed",
                plugin.name(), plugin.file().filename().string(), request.method, request.target,
                status != VERBD_OK ? std::string("failed") : draft.problem);
  draft.streamer->end(complete);
}

// The plugin failed because the store could not be reached: not its fault,
// nor for good. 503, and a client may try again.
void answer_store_unreachable(const http::Request& request, http::Response& response,
                              const std::string& why) {
  log().debug("{} {}: the store could not be reached ({}): answered 503", request.method, request.target,
              why);
  response.refuse(503, "the store could not be reached; try again shortly");
  response.add_field("Retry-After", "1");
}

void call_loaded(const CallSubject& subject, const http::Request& request, store::Store& store,
                 board::CallRecord& record, CallScratch& scratch, http::Response& response,
                 Streamer* streamer) {
  const plugin::Plugin& plugin = subject.plugin;
  Draft draft{response, store, false, {}};
  draft.streamer = streamer;
  draft.never_blocks = plugin.never_blocks();
  draft.plugin_name = plugin.name();
  note_call(record, subject, request);
  verbd_request c = c_request(request, subject.allow, scratch);  // host code: before the call is marked
  std::optional<LockScope> locks;  // a plugin that never blocks may not change the store
  if (!draft.never_blocks) locks.emplace(submitted_tokens(request));
  std::int32_t status;
  store::take_unreachable();  // a mark left by host code before the call is not this call's
  {
    board::InPlugin in_plugin(record);
    status = plugin.handle(c, draft.handle());
  }
  if (draft.sending == Draft::Sending::streaming) return end_streamed_body(plugin, request, draft, status);
  bool failed = status != VERBD_OK || draft.broken || response.status() >= 500;
  std::string unreachable = store::take_unreachable();
  if (!unreachable.empty() && failed) return answer_store_unreachable(request, response, unreachable);
  // A lock granted while the plugin ran refused one of its changes: 423
  // naming it, as the check before the call would have answered.
  if (locks && locks->met() && (failed || response.status() == 423))
    return answer_locked(*locks->met(), response);
  if (status != VERBD_OK || draft.broken) metrics::add_shared(metrics::events().plugin_errors);
  if (status != VERBD_OK) {
    log().error("{} ({}) failed on {} {}: answered 500", plugin.name(), plugin.file().filename().string(),
                request.method, request.target);
    return response.refuse(500, detail::plugin_failed);
  }
  if (draft.broken) {
    log().error("{} ({}) on {} {}: {}: answered 500", plugin.name(), plugin.file().filename().string(),
                request.method, request.target, draft.problem);
    return response.refuse(500, detail::plugin_broke_contract);
  }
  response.complete_error_page();
}

void forward(const CallSubject& subject, const http::Request& request, http::Response& response,
             const std::atomic<bool>* cancelled, Streamer* streamer) {
  const plugin::Plugin& plugin = subject.plugin;
  PluginProcess::Ended ended;
  bool answered = static_cast<PluginProcess*>(plugin.remote())
                      ->exchange(request, subject.allow, response, ended, cancelled, streamer);
  if (!ended.before_request.empty())
    log().warn(
        "isolated plugin {} ({} {}, generation {}): its process {} between requests; started again for {} {}",
        plugin.file().filename().string(), plugin.name(), plugin.version(), subject.generation,
        ended.before_request, request.method, request.target);
  if (answered) return;
  const std::string& death = ended.on_request;
  if (streamer != nullptr && streamer->began()) {
    log().error(
        "isolated plugin {} ({} {}, generation {}): its process {} sending the body of {} {}: the body "
        "is cut short, the connection closed; it starts again for the next request",
        plugin.file().filename().string(), plugin.name(), plugin.version(), subject.generation, death,
        request.method, request.target);
    return streamer->end(false);
  }
  log().error(
      "isolated plugin {} ({} {}, generation {}): its process {} handling {} {}; answered 502, and it "
      "starts again for the next request",
      plugin.file().filename().string(), plugin.name(), plugin.version(), subject.generation, death,
      request.method, request.target);
  response.refuse(502,
                  "the plugin serving this method failed on this request: its process ended; verbd goes on");
}

}  // namespace

void call_plugin(const CallSubject& subject, const http::Request& request, store::Store& store,
                 board::CallRecord& record, CallScratch& scratch, http::Response& response,
                 const std::atomic<bool>* cancelled, Streamer* streamer) {
  if (!checks_pass(request, scratch.target.path, scratch.destination, subject.in_worker, store, response))
    return;
  if (subject.plugin.remote() != nullptr)
    forward(subject, request, response, cancelled, streamer);
  else
    call_loaded(subject, request, store, record, scratch, response, streamer);
  bool head_sent = streamer != nullptr && streamer->began();  // the response is the connection's now
  if (subject.in_worker && !head_sent) http::answer_range(request, response);
}

PooledCall::PooledCall(const plugin::Plugin& plugin, std::shared_ptr<const plugin::Generation> generation,
                       http::Request& request, store::Store& store, std::chrono::milliseconds timeout)
    : plugin_(plugin), generation_(std::move(generation)), store_(store), timeout_(timeout) {
  request_.copy_head_of(request);
  request_.swap_body(request);  // the connection has no more use for it
  result_.reset(request_.method == "HEAD");
}

void PooledCall::run(board::CallRecord& record) noexcept {
  {
    std::lock_guard lock(mutex_);
    if (stage_ != Stage::waiting) return;
  }
  try {
    http::clean_target(request_.target, request_.method, scratch_.target);
    call_plugin({plugin_, generation_->number(), generation_->allow()}, request_, store_, record, scratch_,
                result_, &timed_out_, this);
  } catch (const std::exception& e) {  // memory, in the host's own code
    log().error("{} {}: {}: answered 500", request_.method, request_.target, e.what());
    if (began())
      end(false);
    else
      result_.refuse(500, "the server failed on this request");
  }
  answer();
}

// The connection takes the response now, with its head; the pieces follow
// through the stream. From here on only the stream is touched on this side.
bool PooledCall::begin(http::Response& head) {
  std::lock_guard lock(mutex_);
  if (stage_ != Stage::waiting) return false;
  stream_ = std::make_shared<http::BodyStream>();
  head.set_streamed_body(stream_);
  stage_ = Stage::answered;
  if (ready_) std::exchange(ready_, nullptr)();
  return true;
}

// stream_ is set by begin(), on this same thread, before any send.
bool PooledCall::send(std::string_view piece) { return stream_->push(piece); }

void PooledCall::end(bool complete) noexcept {
  if (complete)
    stream_->finish();
  else
    stream_->abort();
}

bool PooledCall::began() const noexcept {
  std::lock_guard lock(mutex_);
  return stream_ != nullptr;
}

std::size_t PooledCall::kind() const noexcept {
  return std::hash<const plugin::Plugin*>{}(&plugin_) ^ (std::hash<std::string_view>{}(request_.method) << 1);
}

PoolTask::Clock::time_point PooledCall::last_progress() const noexcept {
  std::lock_guard lock(mutex_);
  return stream_ ? stream_->last_progress() : Clock::time_point{};
}

// Answers with the plugin's response, unless the call was timed out or
// abandoned meanwhile.
void PooledCall::answer() {
  std::lock_guard lock(mutex_);
  if (stage_ != Stage::waiting) return;
  stage_ = Stage::answered;
  // Under the lock, so that abandon() cannot return while `ready_` runs:
  // it only posts to the connection's event loop.
  if (ready_) std::exchange(ready_, nullptr)();
}

bool PooledCall::time_out(bool started) noexcept {
  bool remote = plugin_.remote() != nullptr;
  if (began()) return time_out_streaming(remote);
  try {
    refusal_.reset(request_.method == "HEAD");
    refusal_.refuse(503, started ? "the plugin serving this method did not answer within " +
                                       std::to_string(timeout_.count()) +
                                       " ms (limits.handler_timeout_ms); verbd goes on"
                                 : "no plugin thread of this worker was free within " +
                                       std::to_string(timeout_.count()) + " ms: try again shortly");
  } catch (...) {  // no memory for the words: the 503 goes without them
    refusal_.set_status(503);
  }
  {
    std::lock_guard lock(mutex_);
    if (stage_ != Stage::waiting) return true;  // it answered just now: its thread is back
    stage_ = Stage::answered;
    timed_out_ = true;
    if (ready_) std::exchange(ready_, nullptr)();
  }
  log_time_out(started);
  if (!started || !remote) return false;
  static_cast<PluginProcess*>(plugin_.remote())->interrupt(&timed_out_);
  return true;
}

// No piece within the time limit, its head long gone: the body is cut short.
bool PooledCall::time_out_streaming(bool remote) noexcept {
  stream_->abort();
  try {
    log().error("{} ({}) on {} {}: no piece of the body within {} ms: the body is cut short; {}",
                plugin_.name(), plugin_.file().filename().string(), request_.method, request_.target,
                timeout_.count(),
                remote ? "its process is killed, and starts again for the next request"
                       : "its thread is written off and replaced");
  } catch (...) {
  }
  if (!remote) return false;
  static_cast<PluginProcess*>(plugin_.remote())->interrupt(&timed_out_);
  return true;
}

void PooledCall::log_time_out(bool started) const noexcept {
  const char* what = !started ? "waited for a plugin thread"
                     : plugin_.remote() != nullptr
                         ? "its process is killed, and starts again for the next request"
                         : "its thread is written off and replaced";
  try {
    metrics::add_shared(metrics::events().plugin_timeouts);
    log().error("{} ({}) on {} {}: no answer within {} ms: answered 503; {}", plugin_.name(),
                plugin_.file().filename().string(), request_.method, request_.target, timeout_.count(), what);
  } catch (...) {
  }
}

void PooledCall::abandon() noexcept {
  std::function<void()> ready;
  {
    std::lock_guard lock(mutex_);
    stage_ = Stage::abandoned;
    ready.swap(ready_);
    if (stream_) stream_->abort();
  }
  // `ready` holds the connection: it goes here, outside the lock.
}

void PooledCall::when_ready(std::function<void()> ready) {
  std::lock_guard lock(mutex_);
  if (stage_ == Stage::answered)
    ready();
  else if (stage_ == Stage::waiting)
    ready_ = std::move(ready);
}

void PooledCall::take(http::Response& response) { std::swap(response, timed_out_ ? refusal_ : result_); }

}  // namespace verbd::dispatch
