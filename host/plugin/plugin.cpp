#include "plugin/plugin.hpp"

#include "http/response.hpp"

namespace verbd::plugin {

Plugin::Plugin(boost::dll::shared_library library, const verbd_plugin_descriptor& descriptor,
               std::filesystem::path file, FileIdentity identity, Services services)
    : library_(std::move(library)),
      descriptor_(descriptor),
      file_(std::move(file)),
      identity_(identity),
      name_(descriptor.name),
      version_(descriptor.version),
      services_(std::move(services)) {
  for (const char* const* method = descriptor.methods; *method != nullptr; ++method)
    methods_.emplace_back(*method);
  host_ = make_host_table(services_);
}

Plugin::~Plugin() {
  if (instance_ != nullptr) descriptor_.destroy(instance_);
}

bool Plugin::start(std::string& error) {
  char reason[512] = {};
  if (descriptor_.create(&host_, &instance_, reason, sizeof reason) == VERBD_OK && instance_ != nullptr)
    return true;
  instance_ = nullptr;
  error = reason[0] != '\0' ? reason : "no reason given";
  return false;
}

std::int32_t Plugin::handle(const verbd_request& request, http::Response& response) const {
  return descriptor_.handle(instance_, &request, reinterpret_cast<verbd_response*>(&response));
}

std::string Plugin::abi() const {
  return std::to_string(descriptor_.abi_major) + "." + std::to_string(descriptor_.abi_minor);
}

}  // namespace verbd::plugin
