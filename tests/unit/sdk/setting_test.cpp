// Host::setting: the fallback's type is the setting's. A string literal
// gives a std::string (it once picked the bool overload), an integer literal
// an integer (it once was ambiguous), a bool a bool.
#include <verbd/plugin.hpp>
#include <verbd/testing.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using verbd::testing::Setting;
using verbd::testing::TestHost;

// Reads its settings at construction, as plugins do, and answers with them.
class Configured {
 public:
  explicit Configured(verbd::Host& host)
      : index_(host.setting("index", "index.html")),
        depth_(host.setting("depth", 3)),
        listing_(host.setting("listing", true)),
        owner_(host.setting("owner", std::string("root"))),
        label_(host.setting("label", std::string_view("none"))) {
    static_assert(std::is_same_v<decltype(host.setting("index", "index.html")), std::string>);
    static_assert(std::is_same_v<decltype(host.setting("owner", std::string("root"))), std::string>);
    static_assert(std::is_same_v<decltype(host.setting("label", std::string_view("x"))), std::string>);
    static_assert(std::is_same_v<decltype(host.setting("depth", 3)), std::int64_t>);
    static_assert(std::is_same_v<decltype(host.setting("depth", 3u)), std::int64_t>);
    static_assert(std::is_same_v<decltype(host.setting("depth", std::int64_t{3})), std::int64_t>);
    static_assert(std::is_same_v<decltype(host.setting("listing", true)), bool>);
  }

  void handle(const verbd::Request&, verbd::Response& response) const {
    response.status(200);
    response.append(index_ + "|" + std::to_string(depth_) + "|" + (listing_ ? "yes" : "no") + "|" + owner_ +
                    "|" + label_);
  }

 private:
  std::string index_;
  std::int64_t depth_;
  bool listing_;
  std::string owner_, label_;
};

const char* const methods[] = {"SETTINGS", nullptr};
const verbd_plugin_descriptor configured =
    verbd::detail::describe<Configured>("configured", "1.0.0", methods);

TEST(Settings, FallBackToTheirDefaultOfTheSameType) {
  TestHost host(configured);
  EXPECT_EQ(host.request("SETTINGS", "/").body, "index.html|3|yes|root|none");
}

TEST(Settings, TakeTheConfiguredValue) {
  TestHost host(configured, {{"index", std::string("home.html")},
                             {"depth", std::int64_t{7}},
                             {"listing", false},
                             {"owner", std::string("www")},
                             {"label", std::string("l")}});
  EXPECT_EQ(host.request("SETTINGS", "/").body, "home.html|7|no|www|l");
}

TEST(Settings, OfAnotherTypeRefuseThePluginNamingTheKey) {
  try {
    TestHost host(configured, {{"depth", std::string("deep")}});
    FAIL() << "the plugin was not refused";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "the plugin's factory failed: setting 'depth' must be an integer");
  }
}

}  // namespace
