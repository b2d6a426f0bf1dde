#include "http/exchange.hpp"

#include "log/log.hpp"

namespace verbd::http {

Exchange::Exchange(store::Store& store, const plugin::Registry& plugins)
    : store_(store), plugins_(plugins), generation_(plugins.current()) {}

// The generation is re-fetched only when a new one was published, so that
// requests share no lock; the one held here keeps its plugins loaded.
const plugin::Generation& Exchange::generation() {
  if (!generation_ || generation_->number() != plugins_.number()) generation_ = plugins_.current();
  return *generation_;
}

void Exchange::let_go_of_old_generation() noexcept {
  if (generation_ && generation_->number() != plugins_.number()) generation_.reset();
}

bool Exchange::serves(std::string_view method) { return generation().find(method) != nullptr; }

void Exchange::answer(const Request& request, Response& response) {
  response.reset(request.method == "HEAD", &store_);
  auto error = clean_target(request.target, request.method, target_);
  if (error != TargetError::none) return response.refuse(400, describe(error));
  const plugin::Plugin* plugin = generation().find(request.method);
  if (plugin == nullptr) {
    response.refuse(405, "no plugin serves this method");
    response.add_trusted_header("Allow", generation().allow());
    return;
  }
  call_plugin(*plugin, request, response);
}

void Exchange::call_plugin(const plugin::Plugin& plugin, const Request& request, Response& response) {
  static auto& log = verbd::log::get("plugins");
  auto str = [](std::string_view s) { return verbd_str{s.data(), s.size()}; };
  verbd_request c_request{};
  c_request.struct_size = sizeof c_request;
  c_request.version = request.version;
  c_request.method = str(request.method);
  c_request.target = str(request.target);
  c_request.path = str(target_.path);
  c_request.query = str(target_.query);
  c_request.headers = request.headers.data();
  c_request.header_count = request.headers.size();
  c_request.body = str(request.body);
  c_request.allow = str(generation_->allow());

  if (plugin.handle(c_request, response) != VERBD_OK) {
    log.error("{} ({}) failed on {} {}: answered 500", plugin.name(), plugin.file().filename().string(),
              request.method, request.target);
    return response.refuse(500, "the plugin failed");
  }
  if (!response.problem().empty()) {
    log.error("{} ({}) on {} {}: {}: answered 500", plugin.name(), plugin.file().filename().string(),
              request.method, request.target, response.problem());
    return response.refuse(500, "the plugin returned an invalid response");
  }
  response.complete_error_page();
}

}  // namespace verbd::http
