#include "dispatch/dispatcher.hpp"

#include "dispatch/services.hpp"
#include "log/log.hpp"

#include <verbd/detail/rules.hpp>
#include <verbd/detail/text.hpp>

namespace verbd::dispatch {

Dispatcher::Dispatcher(store::Store& store, const plugin::Registry& plugins)
    : store_(store), plugins_(plugins), generation_(plugins.current()) {}

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
  call(*plugin, request, response);
}

void Dispatcher::call(const plugin::Plugin& plugin, const http::Request& request, http::Response& response) {
  static auto& log = verbd::log::get("plugins");
  Draft draft{response, store_, false, {}};
  if (plugin.handle(c_request(request), draft.handle()) != VERBD_OK) {
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
  c.allow = str(generation_->allow());
  return c;
}

http::ResponderFactory dispatchers(store::Store& store, const plugin::Registry& plugins) {
  return [&store, &plugins] { return std::make_unique<Dispatcher>(store, plugins); };
}

}  // namespace verbd::dispatch
