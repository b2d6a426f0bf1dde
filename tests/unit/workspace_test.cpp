// The worker's pool of workspaces: what a connection borrows while busy.
#include "net/workspace.hpp"
#include "plugin/generation.hpp"
#include "store/store.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace verbd::net {
namespace {

std::shared_ptr<const plugin::Generation> empty_generation(std::uint64_t number) {
  return std::make_shared<const plugin::Generation>(number,
                                                    std::vector<std::shared_ptr<const plugin::Plugin>>{});
}

TEST(WorkspacePool, LendsAWorkspaceAgainEmptiedAndWithoutLargeBuffers) {
  auto store = store::make_memory_store();
  plugin::Registry plugins;
  WorkspacePool pool(*store, plugins);
  auto workspace = pool.take();
  Workspace* lent = workspace.get();
  workspace->output.assign("a response not sent");
  workspace->input.assign(10, 'x');
  workspace->request.body.assign(WorkspacePool::kept_buffer_bytes + 1, 'x');
  pool.give_back(std::move(workspace));

  auto again = pool.take();
  EXPECT_EQ(again.get(), lent);
  EXPECT_TRUE(again->output.empty());
  EXPECT_TRUE(again->input.empty());
  EXPECT_TRUE(again->request.body.empty());
  EXPECT_LE(again->request.body.capacity(), WorkspacePool::kept_buffer_bytes);
  EXPECT_NE(pool.take().get(), lent);  // none spare: a new one
}

TEST(WorkspacePool, SparesLetGoOfOldPluginsOnceNewOnesArePublished) {
  auto store = store::make_memory_store();
  plugin::Registry plugins;
  auto first = empty_generation(1);
  std::weak_ptr<const plugin::Generation> watched = first;
  plugins.publish(std::move(first));
  WorkspacePool pool(*store, plugins);
  auto a = pool.take();
  auto b = pool.take();  // both hold generation 1
  pool.give_back(std::move(a));
  pool.give_back(std::move(b));

  plugins.publish(empty_generation(2));
  EXPECT_FALSE(watched.expired());  // the spares still hold it
  pool.give_back(pool.take());      // a connection done with a request after the reload
  EXPECT_TRUE(watched.expired());
  EXPECT_EQ(pool.spares(), 2u);
}

}  // namespace
}  // namespace verbd::net
