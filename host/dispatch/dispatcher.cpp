#include "dispatch/dispatcher.hpp"

#include "dispatch/isolated.hpp"
#include "dispatch/services.hpp"
#include "log/log.hpp"

#include <verbd/detail/rules.hpp>
#include <verbd/detail/text.hpp>

namespace verbd::dispatch {

Dispatcher::Dispatcher(store::Store& store, const plugin::Registry& plugins, board::Board& board,
                       board::CallRecord& record)
    : store_(store), plugins_(plugins), board_(board), record_(record), generation_(plugins.current()) {}

// A newer generation was published since the one held here was fetched.
bool Dispatcher::holds_old_generation() const noexcept {
  return generation_ && generation_->number() != plugins_.number();
}

// The generation is fetched again only when a new one was published, so
// that requests share no lock; the one held here keeps its plugins loaded.
const plugin::Generation& Dispatcher::generation() {
  if (!generation_ || holds_old_generation()) generation_ = plugins_.current();
  return *generation_;
}

void Dispatcher::release() noexcept {
  if (holds_old_generation()) generation_.reset();
}

bool Dispatcher::accepts(const http::Request& head) { return generation().find(head.method) != nullptr; }

void Dispatcher::answer(const http::Request& request, http::Response& response) {
  response.reset(request.method == "HEAD");
  auto error = http::clean_target(request.target, request.method, target_);
  if (error != http::TargetError::none) return response.refuse(400, http::describe(error));
  const plugin::Generation& plugins = generation();
  const plugin::Plugin* plugin = plugins.find(request.method);
  if (plugin == nullptr) {
    response.refuse(405, "no plugin serves this method");
    response.add_field("Allow", plugins.allow());
    return;
  }
  if (is_quarantined(*plugin)) return refuse_quarantined(*plugin, response);
  if (plugin->remote() != nullptr) return forward(*plugin, request, response);
  call(*plugin, request, response);
}

void Dispatcher::forward(const plugin::Plugin& plugin, const http::Request& request,
                         http::Response& response) {
  static auto& log = verbd::log::get("plugins");
  std::string death;
  if (static_cast<PluginProcess*>(plugin.remote())->exchange(request, generation_->allow(), response, death))
    return;
  log.error(
      "isolated plugin {} ({} {}, generation {}): its process {} handling {} {}; answered 502, and it "
      "starts again for the next request",
      plugin.file().filename().string(), plugin.name(), plugin.version(), generation_->number(), death,
      request.method, request.target);
  response.refuse(502,
                  "the plugin serving this method failed on this request: its process ended; verbd goes on");
}

bool Dispatcher::is_quarantined(const plugin::Plugin& plugin) const noexcept {
  return board_.quarantine().contains(plugin.identity());
}

void Dispatcher::refuse_quarantined(const plugin::Plugin& plugin, http::Response& response) const {
  response.refuse(503, "the plugin serving this method, " + plugin.file().filename().string() + " (" +
                           plugin.name() + " " + plugin.version() +
                           "), is quarantined: it crashed verbd's workers too often. It is lifted when "
                           "the plugin's file is replaced or verbd gets SIGHUP.");
  response.add_field("Retry-After", std::to_string(board_.quarantine_retry_after_s().load()));
}

// What the supervisor reports if this worker dies in the plugin. The
// plugin's description is copied only when another plugin is called.
void Dispatcher::note_call(const plugin::Plugin& plugin, const http::Request& request) noexcept {
  if (recorded_plugin_ != &plugin || recorded_generation_ != generation_->number()) {
    recorded_plugin_ = &plugin;
    recorded_generation_ = generation_->number();
    record_.generation = recorded_generation_;
    record_.file_identity = plugin.identity();
    record_.file.set(plugin.file().filename().native());
    record_.name.set(plugin.name());
    record_.version.set(plugin.version());
  }
  record_.method.set(request.method);
  record_.target.set(request.target);
}

void Dispatcher::call(const plugin::Plugin& plugin, const http::Request& request, http::Response& response) {
  static auto& log = verbd::log::get("plugins");
  Draft draft{response, store_, false, {}};
  note_call(plugin, request);
  verbd_request c = c_request(request);  // host code: made before the call is marked as the plugin's
  std::int32_t status;
  {
    board::InPlugin in_plugin(record_);
    status = plugin.handle(c, draft.handle());
  }
  if (status != VERBD_OK) {
    log.error("{} ({}) failed on {} {}: answered 500", plugin.name(), plugin.file().filename().string(),
              request.method, request.target);
    return response.refuse(500, detail::plugin_failed);
  }
  if (draft.broken) {
    log.error("{} ({}) on {} {}: {}: answered 500", plugin.name(), plugin.file().filename().string(),
              request.method, request.target, draft.problem);
    return response.refuse(500, detail::plugin_broke_contract);
  }
  response.complete_error_page();
}

// The request as <verbd/plugin.h> has it; it points into `request`,
// `target_` and `headers_`, valid until the next request.
verbd_request Dispatcher::c_request(const http::Request& request) {
  using detail::str;
  headers_.clear();
  for (const auto& field : request.headers) headers_.push_back({str(field.name), str(field.value)});
  verbd_request c{};
  c.struct_size = sizeof c;
  c.version = request.version;
  c.method = str(request.method);
  c.target = str(request.target);
  c.path = str(target_.path);
  c.query = str(target_.query);
  c.headers = headers_.data();
  c.header_count = headers_.size();
  c.body = str(request.body);
  c.allow = str(allow_from_worker_.empty() ? generation_->allow() : allow_from_worker_);
  return c;
}

http::ResponderFactory dispatchers(store::Store& store, const plugin::Registry& plugins, board::Board& board,
                                   std::size_t first_loop) {
  return [&store, &plugins, &board, loop = first_loop]() mutable {
    return std::make_unique<Dispatcher>(store, plugins, board, board.call(loop++));
  };
}

}  // namespace verbd::dispatch
