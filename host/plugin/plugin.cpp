#include "plugin/plugin.hpp"

#include <verbd/detail/rules.hpp>

#include <charconv>

namespace verbd::plugin {

Plugin::Plugin(boost::dll::shared_library library, const verbd_plugin_descriptor& descriptor, Origin origin,
               Context context, const verbd_host& services)
    : library_(std::move(library)),
      descriptor_(&descriptor),
      origin_(std::move(origin)),
      name_(descriptor.name),
      version_(descriptor.version),
      abi_(std::to_string(descriptor.abi_major) + "." + std::to_string(descriptor.abi_minor)),
      abi_minor_(descriptor.abi_minor),
      context_(std::move(context)),
      host_(services) {
  for (const char* const* method = descriptor.methods; *method != nullptr; ++method)
    methods_.emplace_back(*method);
  host_.context = &context_;
  context_.never_blocks = (detail::descriptor_flags(descriptor) & VERBD_PLUGIN_NEVER_BLOCKS) != 0;
}

Plugin::Plugin(Description description, Origin origin, config::Settings settings,
               std::unique_ptr<Remote> remote)
    : remote_(std::move(remote)),
      origin_(std::move(origin)),
      name_(std::move(description.name)),
      version_(std::move(description.version)),
      abi_(std::move(description.abi)),
      methods_(std::move(description.methods)) {
  context_.settings = std::move(settings);
  auto dot = abi_.find('.');
  if (dot != std::string::npos) std::from_chars(abi_.data() + dot + 1, abi_.data() + abi_.size(), abi_minor_);
}

Plugin::~Plugin() {
  if (instance_ != nullptr) descriptor_->destroy(instance_);
}

bool Plugin::start(std::string& error) {
  char reason[512] = {};
  if (descriptor_->create(&host_, &instance_, reason, sizeof reason) == VERBD_OK && instance_ != nullptr)
    return true;
  instance_ = nullptr;
  error = reason[0] != '\0' ? reason : "no reason given";
  return false;
}

}  // namespace verbd::plugin
