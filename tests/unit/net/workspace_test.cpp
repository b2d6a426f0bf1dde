// The worker's pool of workspaces: what a connection borrows while busy.
#include "net/workspace.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace verbd::net {
namespace {

TEST(WorkspacePool, LendsAWorkspaceAgainEmptiedAndWithoutLargeBuffers) {
  WorkspacePool pool;
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

TEST(WorkspacePool, KeepsNoMoreSparesThanItMay) {
  WorkspacePool pool(2);
  auto a = pool.take(), b = pool.take(), c = pool.take();
  pool.give_back(std::move(a));
  pool.give_back(std::move(b));
  pool.give_back(std::move(c));
  EXPECT_EQ(pool.spares(), 2u);
}

}  // namespace
}  // namespace verbd::net
