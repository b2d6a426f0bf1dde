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
// wire whatever the plugin does (Accept-Ranges: to a GET or HEAD answered
// with a resource, which the test host does not serve in parts); entity
// tags are kept by presence only, since two stores never share them.
std::vector<std::string> comparable(const FieldList& fields) {
  std::vector<std::string> lines;
  for (const auto& [name, value] : fields) {
    if (detail::iequals(name, "Date") || detail::iequals(name, "Server") ||
        detail::iequals(name, "Connection") || detail::iequals(name, "Content-Length") ||
        detail::iequals(name, "Accept-Ranges"))
      continue;
    lines.push_back(name + ": " + (detail::iequals(name, "ETag") && value != "\"x\"" ? "(a tag)" : value));
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

using Shape = std::pair<std::string, std::string>;  // method, path

// "HEAD_resource_and_more": a test's name from its shape.
std::string shape_name(const ::testing::TestParamInfo<Shape>& shape) {
  std::string name = shape.param.first + shape.param.second;
  std::replace_if(
      name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
  return name;
}

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

// RFC 9110 §9.3.2: HEAD is GET without the body, field for field, both in
// verbd and in the test host, whatever the plugin's answer.
using HeadLikeGet = Agreement;

TEST_P(HeadLikeGet, HeadIsTheSameAnswerWithoutItsBody) {
  std::string path = GetParam().second;
  Client client(server_->port());
  Reply head = client.request("HEAD", path);
  Reply get = client.request("SHAPE", path);
  EXPECT_EQ(head.status, get.status);
  EXPECT_EQ(head.header("Content-Length"), get.header("Content-Length"));
  EXPECT_EQ(comparable(head.headers), comparable(get.headers));
  EXPECT_EQ(head.body, "");

  verbd::testing::TestHost host(verbd_plugin);
  auto tested_head = host.request("HEAD", path), tested_get = host.request("SHAPE", path);
  EXPECT_EQ(tested_head.content_length, tested_get.content_length);
  EXPECT_EQ(comparable(tested_head.headers), comparable(tested_get.headers));
}

INSTANTIATE_TEST_SUITE_P(EveryShape, Agreement,
                         ::testing::Values(Shape{"SHAPE", "/text"}, Shape{"HEAD", "/text"},
                                           Shape{"SHAPE", "/untyped"}, Shape{"HEAD", "/untyped"},
                                           Shape{"SHAPE", "/empty404"}, Shape{"HEAD", "/empty404"},
                                           Shape{"SHAPE", "/typed404"}, Shape{"SHAPE", "/no-content"},
                                           Shape{"SHAPE", "/not-modified"}, Shape{"SHAPE", "/resource"},
                                           Shape{"HEAD", "/resource"}, Shape{"SHAPE", "/resource-and-more"},
                                           Shape{"HEAD", "/resource-and-more"}, Shape{"SHAPE", "/missing"},
                                           Shape{"SHAPE", "/bad-status"}, Shape{"HEAD", "/bad-status"},
                                           Shape{"SHAPE", "/owned-field"}, Shape{"SHAPE", "/injected-field"},
                                           Shape{"SHAPE", "/throws"}, Shape{"HEAD", "/throws"},
                                           Shape{"SHAPE", "/unknown"}),
                         shape_name);

INSTANTIATE_TEST_SUITE_P(EveryShape, HeadLikeGet,
                         ::testing::Values(Shape{"HEAD", "/text"}, Shape{"HEAD", "/untyped"},
                                           Shape{"HEAD", "/empty404"}, Shape{"HEAD", "/typed404"},
                                           Shape{"HEAD", "/resource"}, Shape{"HEAD", "/resource-and-more"},
                                           Shape{"HEAD", "/missing"}, Shape{"HEAD", "/bad-status"},
                                           Shape{"HEAD", "/throws"}),
                         shape_name);

}  // namespace
}  // namespace verbd::test
