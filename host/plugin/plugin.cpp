#include "plugin/plugin.hpp"

namespace verbd::plugin {

Plugin::Plugin(boost::dll::shared_library library, const verbd_plugin_descriptor& descriptor, Origin origin,
               Context context, const verbd_host& services)
    : library_(std::move(library)),
      descriptor_(descriptor),
      origin_(std::move(origin)),
      name_(descriptor.name),
      version_(descriptor.version),
      context_(std::move(context)),
      host_(services) {
  for (const char* const* method = descriptor.methods; *method != nullptr; ++method)
    methods_.emplace_back(*method);
  host_.context = &context_;
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

std::string Plugin::abi() const {
  return std::to_string(descriptor_.abi_major) + "." + std::to_string(descriptor_.abi_minor);
}

}  // namespace verbd::plugin
