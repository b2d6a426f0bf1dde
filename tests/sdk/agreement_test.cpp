// The SDK's test host answers as verbd does: the same plugin, sent every
// kind of response it can make (tests/plugins/contract.cpp), through
// verbd::test::TestHost and through a running verbd, gives the same
// status, fields and body. Both apply <verbd/detail/rules.hpp>; this proves
// that nothing else in either drifts.
#include "../plugins/contract.cpp"

#include "../support/http_client.hpp"
#include "../support/plugin_folder.hpp"
#include "../support/test_server.hpp"

#include <verbd/testing.hpp>

#include <gtest/gtest.h>

#include <algorithm>

namespace verbd::test {
namespace {

using FieldList = std::vector<std::pair<std::string, std::string>>;

// Fields as "name: value" lines, sorted, without those verbd adds on the
// wire whatever the plugin does; entity tags are kept by presence only,
// since two stores never share them.
std::vector<std::string> comparable(const FieldList& fields) {
  std::vector<std::string> lines;
  for (const auto& [name, value] : fields) {
    if (detail::iequals(name, "Date") || detail::iequals(name, "Server") ||
        detail::iequals(name, "Connection") || detail::iequals(name, "Content-Length"))
      continue;
    lines.push_back(name + ": " + (detail::iequals(name, "ETag") && value != "\"x\"" ? "(a tag)" : value));
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

using Shape = std::pair<std::string, std::string>;  // method, path

class Agreement : public ::testing::TestWithParam<Shape> {
 protected:
  static void SetUpTestSuite() {
    folder_ = new TempFolder;
    stock(*folder_, {"contract"});
    server_ = new TestServer(test_config("memory", *folder_ / "data", *folder_ / "plugins"));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete folder_;
  }

  static TempFolder* folder_;
  static TestServer* server_;
};

TempFolder* Agreement::folder_ = nullptr;
TestServer* Agreement::server_ = nullptr;

TEST_P(Agreement, TheTestHostAnswersAsVerbdDoes) {
  auto [method, path] = GetParam();
  verbd::testing::TestHost host(verbd_plugin);
  verbd::testing::Reply expected = host.request(method, path);

  Client client(server_->port());
  Reply wire = client.request(method, path);  // for HEAD, it reads no body

  EXPECT_EQ(wire.status, expected.status);
  EXPECT_EQ(wire.body, expected.body);
  EXPECT_EQ(comparable(wire.headers), comparable(expected.headers));
  std::string length = wire.header("Content-Length");
  EXPECT_EQ(length.empty() ? 0u : std::stoull(length), expected.content_length);
  EXPECT_EQ(wire.has_header("Content-Length"), expected.status != 204 && expected.status != 304);
  EXPECT_EQ(expected.failed || !expected.problem.empty(), expected.status == 500) << expected.problem;
}

INSTANTIATE_TEST_SUITE_P(
    EveryShape, Agreement,
    ::testing::Values(Shape{"SHAPE", "/text"}, Shape{"HEAD", "/text"}, Shape{"SHAPE", "/untyped"},
                      Shape{"HEAD", "/untyped"}, Shape{"SHAPE", "/empty404"}, Shape{"HEAD", "/empty404"},
                      Shape{"SHAPE", "/typed404"}, Shape{"SHAPE", "/no-content"},
                      Shape{"SHAPE", "/not-modified"}, Shape{"SHAPE", "/resource"},
                      Shape{"HEAD", "/resource"}, Shape{"SHAPE", "/missing"}, Shape{"SHAPE", "/bad-status"},
                      Shape{"HEAD", "/bad-status"}, Shape{"SHAPE", "/owned-field"},
                      Shape{"SHAPE", "/injected-field"}, Shape{"SHAPE", "/throws"}, Shape{"HEAD", "/throws"},
                      Shape{"SHAPE", "/unknown"}),
    [](const auto& shape) {
      std::string name = shape.param.first + shape.param.second;
      std::replace_if(
          name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
      return name;
    });

}  // namespace
}  // namespace verbd::test
