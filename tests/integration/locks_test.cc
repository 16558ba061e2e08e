// Distributed locks against the real fixture Redis: the simple owner-token lock and the reentrant
// lock with watchdog and fencing tokens. The race test runs this binary twice more as worker
// processes, each with many coroutines doing a deliberately racy read-modify-write under the lock.
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "cache/lock.h"
#include "cache/reentrant_lock.h"
#include "common/random.h"
#include "redis/commands.h"
#include "support/drive.h"
#include "support/processes.h"
#include "support/stores.h"

namespace surge::cache {
namespace {

using namespace std::chrono_literals;
using test::drive;
using test::run_co;

std::string unique(const char* base) {
  return std::string(base) + "-" + std::to_string(::getpid()) + "-" +
         ::testing::UnitTest::GetInstance()->current_test_info()->name();
}

// One "process": an io_context, a command connection, a feed and a lock service.
struct Node {
  explicit Node(LockOptions o = {}) {
    cmd = redis::NodeClient::create(ctx.get_executor(), test::stores().redis);
    feed = redis::Connection::create(ctx.get_executor(), test::stores().redis);
    locks = std::make_unique<LockService>(*cmd, o);
    feed->add_subscription(LockService::kReleasedChannel);
    feed->set_push_handler(
        [this](redis::Reply m) { locks->on_message(m.elements[1].str, m.elements[2].str); });
    cmd->start();
    feed->start();
    EXPECT_TRUE(run_co(ctx, cmd->wait_ready(3s)));
    EXPECT_TRUE(run_co(ctx, feed->wait_ready(3s)));
  }
  ~Node() {
    locks.reset();
    cmd->stop();
    feed->stop();
    test::drive_for(ctx, 20ms);
  }
  std::optional<int64_t> acquire(const std::string& name, const std::string& owner,
                                 std::chrono::milliseconds wait) {
    auto r = run_co(ctx, locks->acquire(name, owner, wait), wait + 5s);
    EXPECT_TRUE(r) << r.error().message();
    return r ? *r : std::nullopt;
  }
  std::optional<int64_t> release(const std::string& name, const std::string& owner) {
    auto r = run_co(ctx, locks->release(name, owner));
    EXPECT_TRUE(r);
    return r ? *r : std::nullopt;
  }
  int64_t pttl(const std::string& name) {
    auto r = run_co(ctx, redis::pttl(*cmd, LockService::key(name)));
    return r ? *r : -100;
  }

  boost::asio::io_context ctx;
  std::shared_ptr<redis::NodeClient> cmd;
  std::shared_ptr<redis::Connection> feed;
  std::unique_ptr<LockService> locks;
};

TEST(SimpleLock, OnlyTheOwnerReleasesAndWaitsAreBounded) {
  Node n;
  std::string key = "lock:" + unique("simple");
  auto a = run_co(n.ctx, try_lock(*n.cmd, key, 5s));
  ASSERT_TRUE(a && *a);
  auto b = run_co(n.ctx, lock_within(*n.cmd, key, 5s, 100ms));
  ASSERT_TRUE(b);
  EXPECT_FALSE(*b) << "a second holder while the first still holds";
  LockLease forged{key, random_token()};
  EXPECT_FALSE(*run_co(n.ctx, unlock(*n.cmd, forged)));
  EXPECT_TRUE(*run_co(n.ctx, unlock(*n.cmd, **a)));
  auto c = run_co(n.ctx, lock_within(*n.cmd, key, 5s, 100ms));
  ASSERT_TRUE(c && *c);
  EXPECT_TRUE(*run_co(n.ctx, unlock(*n.cmd, **c)));
}

TEST(ReentrantLock, ReentryCountsAndANonOwnerCannotRelease) {
  Node n;
  std::string name = unique("reentry");
  auto f1 = n.acquire(name, "alice", 0ms);
  auto f2 = n.acquire(name, "alice", 0ms);
  ASSERT_TRUE(f1 && f2);
  EXPECT_EQ(*f1, *f2) << "re-entry keeps the fencing token";
  EXPECT_FALSE(n.acquire(name, "bob", 0ms));
  EXPECT_FALSE(n.release(name, "bob")) << "bob never held it";
  EXPECT_EQ(n.release(name, "alice"), 1);
  EXPECT_FALSE(n.acquire(name, "bob", 0ms)) << "alice still holds it once";
  EXPECT_EQ(n.release(name, "alice"), 0);
  EXPECT_EQ(n.locks->watchdogs(), 0u) << "the watchdog stops with the last release";
  auto fb = n.acquire(name, "bob", 0ms);
  ASSERT_TRUE(fb);
  EXPECT_GT(*fb, *f1);
  EXPECT_EQ(n.release(name, "bob"), 0);
}

TEST(ReentrantLock, FencingTokensStrictlyIncrease) {
  Node a, b;
  std::string name = unique("fence");
  int64_t last = 0;
  for (int i = 0; i < 20; ++i) {
    Node& n = i % 2 ? a : b;
    std::string owner = i % 2 ? "a" : "b";
    auto f = n.acquire(name, owner, 1s);
    ASSERT_TRUE(f);
    EXPECT_GT(*f, last);
    last = *f;
    EXPECT_EQ(n.release(name, owner), 0);
  }
}

TEST(ReentrantLock, WatchdogKeepsALongHolderAndReleaseWakesAWaiterAtOnce) {
  LockOptions o;
  o.lease = 600ms;
  Node a(o);
  std::string name = unique("watchdog");
  ASSERT_TRUE(a.acquire(name, "holder", 0ms));
  // Held for five leases: the watchdog renews it every 200 ms.
  for (int i = 0; i < 15; ++i) {
    test::drive_for(a.ctx, 200ms);
    ASSERT_GT(a.pttl(name), 0) << "lease expired while held, after " << (i + 1) * 200 << " ms";
  }
  // A waiter in another process with a long lease sleeps until the release is published.
  LockOptions long_lease;
  long_lease.lease = 30s;
  Node b(long_lease);
  ASSERT_TRUE(run_co(a.ctx, redis::pexpire(*a.cmd, LockService::key(name), 20s)));
  std::optional<int64_t> got;
  bool done = false;
  auto waiter = [&]() -> boost::asio::awaitable<void> {
    auto r = co_await b.locks->acquire(name, "waiter", 10s);
    if (r) got = *r;
    done = true;
  };
  boost::asio::co_spawn(b.ctx, waiter(), boost::asio::detached);
  test::drive_for(b.ctx, 100ms);
  EXPECT_FALSE(done);
  EXPECT_EQ(a.release(name, "holder"), 0);
  auto released = std::chrono::steady_clock::now();
  drive(
      b.ctx, [&] { return done; }, 5s);
  EXPECT_LT(std::chrono::steady_clock::now() - released, 1s)
      << "the waiter slept through the release instead of being woken";
  EXPECT_TRUE(got);
  EXPECT_EQ(b.release(name, "waiter"), 0);
}

TEST(ReentrantLock, ADeadHoldersLockExpires) {
  LockOptions o;
  o.lease = 300ms;
  std::string name = unique("dead");
  {
    Node doomed(o);
    ASSERT_TRUE(doomed.acquire(name, "doomed", 0ms));
    // The process dies: its watchdog stops with it, the lease is left to run out.
  }
  Node b(o);
  auto started = std::chrono::steady_clock::now();
  auto f = b.acquire(name, "survivor", 3s);
  EXPECT_TRUE(f);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_EQ(b.release(name, "survivor"), 0);
}

// The worker body, run in child processes: `coroutines` × `rounds` increments of a counter with a
// GET, a pause, then a SET — lost updates unless the lock serialises them.
constexpr int kCoroutines = 10, kRounds = 10;

boost::asio::awaitable<void> increments(Node& n, std::string name, std::string counter,
                                        std::string owner, int* failures, int* done) {
  boost::asio::steady_timer t(co_await boost::asio::this_coro::executor);
  for (int i = 0; i < kRounds; ++i) {
    auto f = co_await n.locks->acquire(name, owner, 20s);
    if (!f || !*f) {
      ++*failures;
      continue;
    }
    auto v = co_await redis::get(*n.cmd, counter);
    int64_t x = v && *v ? std::atoll((*v)->c_str()) : 0;
    t.expires_after(1ms);  // widen the race window: another holder would overwrite us here
    auto [ec] = co_await t.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    (void)ec;
    auto w = co_await redis::set(*n.cmd, counter, std::to_string(x + 1));
    if (!w) ++*failures;
    auto r = co_await n.locks->release(name, owner);
    if (!r || !*r) ++*failures;
  }
  ++*done;
}

TEST(LockRace, WorkerProcess) {
  const char* name = std::getenv("SURGE_LOCK_RACE");
  if (!name) GTEST_SKIP() << "runs only as a child of LockRace.TwoProcessesNeverLoseAnUpdate";
  Node n;
  int failures = 0, done = 0;
  for (int i = 0; i < kCoroutines; ++i) {
    std::string owner = std::to_string(::getpid()) + "-" + std::to_string(i);
    boost::asio::co_spawn(
        n.ctx, increments(n, name, std::string(name) + ":counter", owner, &failures, &done),
        boost::asio::detached);
  }
  drive(
      n.ctx, [&] { return done == kCoroutines; }, 60s);
  EXPECT_EQ(failures, 0);
}

TEST(LockRace, TwoProcessesNeverLoseAnUpdate) {
  std::string name = unique("race");
  char self[4096] = {};
  ASSERT_GT(::readlink("/proc/self/exe", self, sizeof self - 1), 0);
  std::vector<std::string> argv{self, "--gtest_filter=LockRace.WorkerProcess"};
  std::vector<std::string> env{"SURGE_LOCK_RACE=" + name};
  test::Child a(argv, env), b(argv, env);
  EXPECT_EQ(a.wait(90s), 0);
  EXPECT_EQ(b.wait(90s), 0);
  Node n;
  auto v = run_co(n.ctx, redis::get(*n.cmd, name + ":counter"));
  ASSERT_TRUE(v && *v);
  EXPECT_EQ(**v, std::to_string(2 * kCoroutines * kRounds));
}

}  // namespace
}  // namespace surge::cache
