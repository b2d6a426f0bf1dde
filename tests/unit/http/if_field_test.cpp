// The If field's parser (RFC 4918 §10.4), on the examples of the RFC and
// on what must be refused.
#include "http/if_field.hpp"

#include <gtest/gtest.h>

namespace verbd::http {
namespace {

std::vector<IfList> parsed(std::string_view text) {
  std::vector<IfList> lists;
  EXPECT_TRUE(parse_if_field(text, lists)) << text;
  return lists;
}

bool refused(std::string_view text) {
  std::vector<IfList> lists;
  return !parse_if_field(text, lists);
}

TEST(IfField, ReadsUntaggedListsOfTokensAndEntityTags) {
  auto lists = parsed(R"((<urn:uuid:150852e2> ["I am an ETag"]) (["I am another ETag"]))");
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_EQ(lists[0].resource, "");
  ASSERT_EQ(lists[0].conditions.size(), 2u);
  EXPECT_TRUE(lists[0].conditions[0].is_token);
  EXPECT_EQ(lists[0].conditions[0].value, "urn:uuid:150852e2");
  EXPECT_FALSE(lists[0].conditions[1].is_token);
  EXPECT_EQ(lists[0].conditions[1].value, "\"I am an ETag\"");
  EXPECT_EQ(lists[1].conditions[0].value, "\"I am another ETag\"");
}

TEST(IfField, ReadsNotInAnyCase) {
  auto lists = parsed("(Not <DAV:no-lock>) (nOt[\"e\"])");
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_TRUE(lists[0].conditions[0].negated);
  EXPECT_EQ(lists[0].conditions[0].value, "DAV:no-lock");
  EXPECT_TRUE(lists[1].conditions[0].negated);
}

TEST(IfField, TagsApplyToTheListsThatFollowThemAsCleanPaths) {
  auto lists = parsed(
      "<http://www.example.com/specs/a%20b> (<urn:uuid:1>) <http://www.example.com/x/../y/> (<urn:uuid:2>) "
      "([\"e\"])");
  ASSERT_EQ(lists.size(), 3u);
  EXPECT_EQ(lists[0].resource, "/specs/a b");
  EXPECT_EQ(lists[1].resource, "/y/");
  EXPECT_EQ(lists[2].resource, "/y/");
}

TEST(IfField, SeveralFieldsJoinedAreOne) { EXPECT_EQ(parsed("(<urn:a>), (<urn:b>)").size(), 2u); }

TEST(IfField, RefusesWhatIsNotTheGrammar) {
  for (std::string_view text :
       {"", "   ", "()", "(<urn:a>", "(<urn:a)", "([\"e\")", "(urn:a)", "<http://h/a>",
        "<http://h/a> <http://h/b> (<x>)", "(Not)", "x (<urn:a>)", "<http://h/../../etc> (<x>)"})
    EXPECT_TRUE(refused(text)) << text;
}

}  // namespace
}  // namespace verbd::http
