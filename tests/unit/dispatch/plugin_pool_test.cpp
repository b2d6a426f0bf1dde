// The dispatcher with a pool of plugin threads, without sockets: which calls
// go to the pool, the answer that comes back, the board records of pool
// threads, the time limit, the bound on the queue, the call for help when
// every thread is stuck, and which calls get a thread at once.
#include "dispatch/dispatcher.hpp"

#include "store/store.hpp"

#include "../../support/inline_plugin.hpp"

#include <verbd/plugin.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace verbd::dispatch {
namespace {

using namespace std::chrono_literals;

// Holds the calls of WAIT until opened; the test opens it before it ends.
struct Gate {
  std::mutex mutex;
  std::condition_variable opened_cv;
  bool opened = false;
  std::atomic<int> waiting{0};

  void wait() {
    std::unique_lock lock(mutex);
    ++waiting;
    opened_cv.wait(lock, [&] { return opened; });
    --waiting;
  }
  void open() {
    std::lock_guard lock(mutex);
    opened = true;
    opened_cv.notify_all();
  }
};
Gate* gate = nullptr;

// SPIN computes (never sleeps) until spins_may_end, noting its thread.
std::atomic<bool> spins_may_end{true};
std::atomic<int> spinning{0};
std::mutex spin_threads_mutex;
std::vector<std::thread::id> spin_threads;

void spin() {
  {
    std::lock_guard lock(spin_threads_mutex);
    spin_threads.push_back(std::this_thread::get_id());
  }
  ++spinning;
  while (!spins_may_end.load()) {
  }
  --spinning;
}

// NAP returns at once, or sleeps a millisecond (naps_sleep), or waits at
// the gate (naps_at_gate).
std::atomic<bool> naps_sleep{false};
std::atomic<bool> naps_at_gate{false};

void nap() {
  if (naps_at_gate)
    gate->wait();
  else if (naps_sleep)
    std::this_thread::sleep_for(1ms);
}

// WAIT waits at the gate, then echoes; ECHO echoes at once. It may block.
struct Blocking {
  explicit Blocking(verbd::Host&) {}
  void handle(const verbd::Request& request, verbd::Response& response) const {
    if (request.method() == "WAIT") gate->wait();
    if (request.method() == "SPIN") spin();
    if (request.method() == "NAP") nap();
    response.status(200);
    response.append(std::string(request.method()) + " " + std::string(request.path()) + " " +
                    std::string(request.header("X-One").value_or("-")) + " " + std::string(request.body()));
  }
};

// Says it never blocks.
struct Quick {
  static constexpr bool never_blocks = true;
  explicit Quick(verbd::Host&) {}
  void handle(const verbd::Request&, verbd::Response& response) const { response.status(204); }
};

const char* const blocking_methods[] = {"WAIT", "ECHO", "SPIN", "NAP", nullptr};
const char* const quick_methods[] = {"QUICK", nullptr};
const verbd_plugin_descriptor blocking =
    verbd::detail::describe<Blocking>("blocking", "1.0.0", blocking_methods);
const verbd_plugin_descriptor quick = verbd::detail::describe<Quick>("quick", "1.0.0", quick_methods);

class PooledDispatcher : public ::testing::Test {
 protected:
  PooledDispatcher() {
    gate = &gate_;
    spins_may_end = true;
    spin_threads.clear();
    naps_sleep = false;
    naps_at_gate = false;
  }
  ~PooledDispatcher() override {
    spins_may_end = true;
    gate_.open();
    dispatcher_.reset();  // joins the pool's threads before the gate goes
    gate = nullptr;
  }

  // The board has two records per pool thread, as verbd's.
  void start(PoolSettings settings) {
    registry_.publish(std::make_shared<plugin::Generation>(
        1, std::vector{test::load_inline(blocking, *store_), test::load_inline(quick, *store_)}));
    board_ = std::make_unique<board::Board>(1, settings.threads);
    auto pool = std::make_unique<PluginPool>(settings, board_->pool_calls(0), [this] { ++stuck_calls_; });
    dispatcher_ = std::make_unique<Dispatcher>(*store_, registry_, *board_, board_->call(0), std::move(pool));
  }

  // Hands a request over; null when it was answered at once (into response_).
  std::shared_ptr<http::Pending> begin(std::string_view method, std::string body = {}) {
    auto& request = requests_.emplace_back(std::make_unique<http::Request>());
    request->method = method;
    request->target = "/a/./b";
    request->headers = {{"X-One", "1"}};
    request->body = std::move(body);
    response_ = http::Response();
    return dispatcher_->answer_or_defer(*request, response_);
  }

  // Waits (up to 5 s) for the answer and takes it.
  static http::Response finish(const std::shared_ptr<http::Pending>& pending) {
    std::promise<void> ready;
    auto done = ready.get_future();
    pending->when_ready([&ready] { ready.set_value(); });
    EXPECT_EQ(done.wait_for(5s), std::future_status::ready);
    http::Response response;
    pending->take(response);
    return response;
  }

  static std::string body_of(const http::Response& response) {
    std::string out;
    response.serialize(out, {"verbd", true, 11});
    return out.substr(out.find("\r\n\r\n") + 4);
  }

  void wait_for_waiters(int count) {
    for (int i = 0; i < 500 && gate_.waiting.load() < count; ++i) std::this_thread::sleep_for(10ms);
    ASSERT_EQ(gate_.waiting.load(), count);
  }

  Gate gate_;
  std::unique_ptr<store::Store> store_ = store::make_memory_store();
  plugin::Registry registry_;
  std::unique_ptr<board::Board> board_;
  std::atomic<int> stuck_calls_{0};
  std::vector<std::unique_ptr<http::Request>> requests_;
  http::Response response_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_F(PooledDispatcher, APluginThatNeverBlocksIsAnsweredAtOnce) {
  start({2, 4, 5000ms});
  EXPECT_EQ(begin("QUICK"), nullptr);
  EXPECT_EQ(response_.status(), 204);
  EXPECT_EQ(begin("NONE"), nullptr);  // refusals too: 405
  EXPECT_EQ(response_.status(), 405);
}

TEST_F(PooledDispatcher, APluginThatMayBlockIsCalledOnAPoolThread) {
  start({2, 4, 5000ms});
  auto pending = begin("ECHO", "payload");
  ASSERT_NE(pending, nullptr);
  EXPECT_TRUE(requests_.back()->body.empty());  // taken along: the connection is done with it
  http::Response response = finish(pending);
  EXPECT_EQ(response.status(), 200);
  EXPECT_EQ(body_of(response), "ECHO /a/b 1 payload");
  // Noted in the pool thread's record, not in the event loop's.
  EXPECT_EQ(board_->pool_calls(0)[0].method.view(), "ECHO");
  EXPECT_EQ(board_->pool_calls(0)[0].name.view(), "blocking");
  EXPECT_EQ(board_->call(0).method.view(), "");
}

TEST_F(PooledDispatcher, AFullPoolAndQueueAnswer503WithRetryAfterAtOnce) {
  start({1, 1, 5000ms});
  auto running = begin("WAIT");
  wait_for_waiters(1);
  auto queued = begin("ECHO");
  ASSERT_NE(queued, nullptr);
  EXPECT_EQ(begin("ECHO"), nullptr);
  std::string out;
  response_.serialize(out, {"verbd", true, 11});
  EXPECT_EQ(response_.status(), 503);
  EXPECT_NE(out.find("Retry-After: 1\r\n"), std::string::npos) << out;
  EXPECT_EQ(begin("QUICK"), nullptr);  // never queued
  EXPECT_EQ(response_.status(), 204);
  gate_.open();
  EXPECT_EQ(finish(running).status(), 200);
  EXPECT_EQ(finish(queued).status(), 200);
}

TEST_F(PooledDispatcher, ACallPastTheLimitIs503AndItsThreadIsReplaced) {
  start({1, 4, 100ms});
  auto hung = begin("WAIT");
  http::Response response = finish(hung);
  EXPECT_EQ(response.status(), 503);
  EXPECT_NE(body_of(response).find("did not answer within 100 ms"), std::string::npos);
  // The replacement serves the next call while the first still waits.
  EXPECT_EQ(body_of(finish(begin("ECHO"))), "ECHO /a/b 1 ");
  EXPECT_EQ(gate_.waiting.load(), 1);
  EXPECT_EQ(threads_written_off(), 1u);
  for (int i = 0; i < 500 && stuck_calls_.load() == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(stuck_calls_.load(), 1);  // as many stuck as the pool has: 1
  gate_.open();
  for (int i = 0; i < 500 && threads_written_off() > 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(threads_written_off(), 0u);  // it came back, and ended
}

// One thread, two records: the thread and one replacement. With both
// written off, a call waits in the queue, and gets its 503 after the limit.
TEST_F(PooledDispatcher, ACallThatFindsNoThreadWithinTheLimitIs503) {
  start({1, 4, 200ms});
  EXPECT_EQ(finish(begin("WAIT")).status(), 503);
  EXPECT_EQ(finish(begin("WAIT")).status(), 503);  // on the replacement
  // (The 503 leaves before the pool counts the thread as written off.)
  for (int i = 0; i < 500 && threads_written_off() < 2; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(threads_written_off(), 2u);
  auto sent = std::chrono::steady_clock::now();
  http::Response queued = finish(begin("ECHO"));
  EXPECT_GE(std::chrono::steady_clock::now() - sent, 200ms);
  EXPECT_EQ(queued.status(), 503);
  EXPECT_NE(body_of(queued).find("no plugin thread of this worker was free within 200 ms"), std::string::npos)
      << body_of(queued);
  EXPECT_EQ(stuck_calls_.load(), 1);  // once, however many more get stuck
  gate_.open();
  for (int i = 0; i < 500 && threads_written_off() > 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(threads_written_off(), 0u);
}

TEST_F(PooledDispatcher, AnswersWaitingWhenTheWorkerEndsAreAbandoned) {
  start({1, 4, 5000ms});
  auto pending = begin("WAIT");
  wait_for_waiters(1);
  auto connection = std::make_shared<int>(0);
  std::weak_ptr<int> held = connection;
  pending->when_ready([connection] { ADD_FAILURE() << "called after abandon_pending()"; });
  connection.reset();
  dispatcher_->abandon_pending();
  EXPECT_TRUE(held.expired());  // what `ready` held is let go at once
  gate_.open();
}

// Learnt from three calls that compute: the next ones wait for the thread
// busy with one, rather than wake threads of their own.
TEST_F(PooledDispatcher, CallsThatComputeWaitForTheThreadThatRunsOne) {
  start({4, 8, 5000ms, 10s});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(finish(begin("SPIN")).status(), 200);
  spins_may_end = false;
  auto first = begin("SPIN");
  for (int i = 0; i < 500 && spinning.load() == 0; ++i) std::this_thread::sleep_for(10ms);
  auto second = begin("SPIN");
  auto third = begin("SPIN");
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(spinning.load(), 1);
  spins_may_end = true;
  for (const auto& call : {first, second, third}) EXPECT_EQ(finish(call).status(), 200);
  ASSERT_EQ(spin_threads.size(), 6u);
  EXPECT_EQ(spin_threads[4], spin_threads[3]);
  EXPECT_EQ(spin_threads[5], spin_threads[3]);
}

// A call that computes longer than computing_for_at_most is taken to be
// waiting: the call queued behind it gets a thread of its own.
TEST_F(PooledDispatcher, ACallThatComputesTooLongIsJoinedByAnotherThread) {
  start({4, 8, 5000ms, 20ms});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(finish(begin("SPIN")).status(), 200);
  spins_may_end = false;
  auto first = begin("SPIN");
  auto second = begin("SPIN");
  for (int i = 0; i < 500 && spinning.load() < 2; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(spinning.load(), 2);
  spins_may_end = true;
  EXPECT_EQ(finish(first).status(), 200);
  EXPECT_EQ(finish(second).status(), 200);
}

// Learnt as computing, then seen to sleep: the calls count as waiting ones
// again, and each gets a thread at once.
TEST_F(PooledDispatcher, CallsSeenToWaitGetAThreadEachAtOnce) {
  start({4, 8, 5000ms, 10s});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(finish(begin("NAP")).status(), 200);
  naps_sleep = true;
  for (int i = 0; i < 4; ++i) EXPECT_EQ(finish(begin("NAP")).status(), 200);
  naps_at_gate = true;
  std::vector<std::shared_ptr<http::Pending>> naps;
  for (int i = 0; i < 3; ++i) naps.push_back(begin("NAP"));
  wait_for_waiters(3);
  gate_.open();
  for (const auto& call : naps) EXPECT_EQ(finish(call).status(), 200);
}

}  // namespace
}  // namespace verbd::dispatch
