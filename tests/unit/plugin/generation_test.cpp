// Generations: what the loader keeps, replaces and drops when the plugin
// folder changes, against the fake plugins in tests/plugins.
#include "plugin/loader.hpp"

#include "dispatch/services.hpp"
#include "store/store.hpp"

#include "../../support/plugin_folder.hpp"
#include "../../support/temp_folder.hpp"

#include <gtest/gtest.h>

namespace verbd::test {
namespace {

namespace fs = std::filesystem;

class GenerationsTest : public ::testing::Test {
 protected:
  GenerationsTest() : store_(store::make_memory_store()), loader_(*store_, dispatch::services_table()) {
    settings_.directory = folder_ / "plugins";
    stock(folder_, {"good"}, {"get"});
  }

  plugin::LoadReport next(const plugin::LoadReport* before) {
    return loader_.load(settings_, before ? before->generation->number() + 1 : 1,
                        before ? before->generation.get() : nullptr);
  }

  TempFolder folder_;
  std::unique_ptr<store::Store> store_;
  plugin::Loader loader_;
  config::Plugins settings_;
};

TEST_F(GenerationsTest, AnUnchangedFolderKeepsEveryInstance) {
  auto first = next(nullptr);
  EXPECT_EQ(first.changes, "+get.so +good.so");
  auto second = next(&first);
  EXPECT_EQ(second.changes, "none");
  EXPECT_EQ(second.generation->number(), 2u);
  EXPECT_EQ(second.generation->find("GET"), first.generation->find("GET"));
  EXPECT_EQ(second.generation->find("ECHO"), first.generation->find("ECHO"));
}

TEST_F(GenerationsTest, AReplacedFileIsLoadedAgainAndARemovedOneIsGone) {
  auto first = next(nullptr);
  fs::copy_file(fs::path(VERBD_TEST_PLUGIN_DIR) / "duplicate.so", folder_ / "plugins/good.so",
                fs::copy_options::overwrite_existing);
  auto second = next(&first);
  EXPECT_EQ(second.changes, "~good.so");
  ASSERT_NE(second.generation->find("ECHO"), nullptr);
  EXPECT_EQ(second.generation->find("ECHO")->name(), "another-echo");
  EXPECT_EQ(first.generation->find("ECHO")->name(), "echo");  // the old generation is untouched
  fs::remove(folder_ / "plugins/good.so");
  auto third = next(&second);
  EXPECT_EQ(third.changes, "-good.so");
  EXPECT_EQ(third.generation->find("ECHO"), nullptr);
}

TEST_F(GenerationsTest, ABrokenCopyKeepsTheVersionLoadedBefore) {
  auto first = next(nullptr);
  folder_.write("plugins/get.so", "half a copy");
  auto second = next(&first);
  ASSERT_EQ(second.refused.size(), 1u);
  EXPECT_EQ(second.refused.front().reason,
            "not a shared library (no ELF header): remove it from the plugin folder; "
            "the version loaded before stays in force");
  EXPECT_EQ(second.generation->find("GET"), first.generation->find("GET"));
  EXPECT_EQ(second.changes, "none");
}

TEST_F(GenerationsTest, ChangedSettingsMakeANewInstance) {
  auto first = next(nullptr);
  settings_.settings["echo"]["greeting"] = std::string("salut");
  auto second = next(&first);
  EXPECT_EQ(second.changes, "~good.so");
  EXPECT_NE(second.generation->find("ECHO"), first.generation->find("ECHO"));
  EXPECT_EQ(second.generation->find("GET"), first.generation->find("GET"));
}

}  // namespace
}  // namespace verbd::test
