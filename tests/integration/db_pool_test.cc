// The MariaDB pool against a real server: concurrency, the bulkhead, errors, reconnection, and
// the seed generator's counts and determinism.
#include <atomic>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "app/seed.h"
#include "db/pool.h"
#include "db/shop_repository.h"
#include "support/stores.h"

namespace surge {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Runs `n` copies of a coroutine factory concurrently on one io_context and waits for all.
template <class Make>
void run_concurrently(size_t n, Make make) {
  asio::io_context ctx;
  for (size_t i = 0; i < n; ++i) asio::co_spawn(ctx, make(i), asio::detached);
  ctx.run();
}

TEST(DbPool, ManyConcurrentQueriesAllAnswerCorrectly) {
  db::Pool pool(test::pool_options(4));
  std::atomic<int> right{0};
  run_concurrently(2000, [&](size_t i) -> asio::awaitable<void> {
    db::Params params;
    params.emplace_back(static_cast<int64_t>(i));
    auto rows = co_await pool.query("SELECT ? + 1", std::move(params));
    if (rows && rows->size() == 1 &&
        db::to_int64(rows->rows[0][0]) == static_cast<int64_t>(i) + 1) {
      ++right;
    }
  });
  EXPECT_EQ(right.load(), 2000);
  EXPECT_EQ(pool.queued(), 0u);
}

TEST(DbPool, ConcurrentIncrementsAreNeverLost) {
  test::exec_root("CREATE TABLE IF NOT EXISTS hmdp.t_pool_counter (id INT PRIMARY KEY, n INT)");
  test::exec_root("REPLACE INTO hmdp.t_pool_counter VALUES (1, 0)");
  db::Pool pool(test::pool_options(8));
  std::atomic<int> ok{0};
  run_concurrently(1000, [&](size_t) -> asio::awaitable<void> {
    auto r = co_await pool.execute("UPDATE t_pool_counter SET n = n + 1 WHERE id = 1");
    if (r && r->affected_rows == 1) ++ok;
  });
  EXPECT_EQ(ok.load(), 1000);
  asio::io_context ctx;
  auto f = asio::co_spawn(ctx, pool.query("SELECT n FROM t_pool_counter WHERE id = 1"),
                          asio::use_future);
  ctx.run();
  auto rows = f.get();
  ASSERT_TRUE(rows);
  EXPECT_EQ(db::to_int64(rows->rows[0][0]), 1000);
}

TEST(DbPool, BulkheadRefusesWorkBeyondTheQueueLimit) {
  db::Options o = test::pool_options(2);
  o.max_queue = 10;
  db::Pool pool(o);
  std::atomic<int> ok{0}, refused{0}, other{0};
  run_concurrently(100, [&](size_t) -> asio::awaitable<void> {
    auto r = co_await pool.query("SELECT SLEEP(0.02)");
    if (r) {
      ++ok;
    } else if (r.error() == Errc::kUnavailable) {
      ++refused;
    } else {
      ++other;
    }
  });
  // Admitted: the 10 queue places, plus at most one per pool thread that had already taken its
  // job off the queue while the burst was still arriving.
  EXPECT_GE(ok.load(), 10);
  EXPECT_LE(ok.load(), 12);
  EXPECT_EQ(refused.load(), 100 - ok.load());
  EXPECT_EQ(other.load(), 0);
}

// A caller of Pool::run on `ctx` whose coroutine cancel() cancels (terminal, as the HTTP server
// does when a client goes away). With `wait_first` it first waits on a long timer, so it is
// cancelled before it asks the pool.
struct CancellableCaller {
  CancellableCaller(asio::io_context& ctx, db::Pool& pool, bool wait_first) {
    asio::co_spawn(ctx, call(pool, wait_first),
                   asio::bind_cancellation_slot(signal.slot(), asio::detached));
  }
  asio::awaitable<void> call(db::Pool& pool, bool wait_first) {
    co_await asio::this_coro::throw_if_cancelled(false);
    if (wait_first) {
      asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::hours(1));
      waiting = true;
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    auto r = co_await pool.run([this](db::Connection&) -> Result<int> {
      ran = true;
      return 0;
    });
    if (!r) error = r.error();
    done = true;
  }
  // Emitted from the loop's thread, as the server does; `cancelled` once it has been.
  void cancel(asio::io_context& ctx) {
    asio::post(ctx, [this] {
      signal.emit(asio::cancellation_type::terminal);
      cancelled = true;
    });
  }

  asio::cancellation_signal signal;
  std::atomic<bool> waiting{false}, ran{false}, done{false}, cancelled{false};
  error_code error;
};

// The HTTP server cancels a request's coroutine when its client goes away (terminal
// cancellation). A job still in the queue then never runs, and a caller cancelled before it asks
// is refused at once; a job already running finishes.
TEST(DbPool, JobsOfACancelledCallerDoNotRun) {
  db::Pool pool(test::pool_options(1));
  asio::io_context ctx;
  auto guard = asio::make_work_guard(ctx);
  std::thread loop([&] { ctx.run(); });
  auto until = [](auto pred) {
    for (int i = 0; i < 2000 && !pred(); ++i) std::this_thread::sleep_for(5ms);
    return pred();
  };

  // The pool's only thread is held by a running job.
  std::atomic<bool> holding{false}, release{false};
  std::atomic<int> first{0};
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        auto r = co_await pool.run([&](db::Connection&) -> Result<int> {
          holding = true;
          while (!release) std::this_thread::sleep_for(1ms);
          return 1;
        });
        first = r ? *r : -1;
      },
      asio::detached);
  ASSERT_TRUE(until([&] { return holding.load(); }));

  // A second caller's job waits in the queue; its caller is cancelled there.
  CancellableCaller second(ctx, pool, false);
  ASSERT_TRUE(until([&] { return pool.queued() == 1; }));
  second.cancel(ctx);
  ASSERT_TRUE(until([&] { return second.cancelled.load(); }));

  // A third caller is cancelled while it waits for something else, then asks the pool.
  CancellableCaller third(ctx, pool, true);
  ASSERT_TRUE(until([&] { return third.waiting.load(); }));
  third.cancel(ctx);
  ASSERT_TRUE(until([&] { return third.done.load(); }));
  EXPECT_FALSE(third.ran);
  EXPECT_EQ(third.error, Errc::kCancelled);

  release = true;
  ASSERT_TRUE(until([&] { return second.done.load() && first.load() != 0; }));
  EXPECT_EQ(first, 1);  // the running job finished
  EXPECT_FALSE(second.ran);
  EXPECT_EQ(second.error, Errc::kCancelled);
  EXPECT_EQ(pool.cancelled(), 2u);
  EXPECT_EQ(pool.queued(), 0u);
  // The pool still serves.
  auto after = asio::co_spawn(ctx, pool.query("SELECT 7"), asio::use_future).get();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->rows[0][0].value_or(""), "7");
  guard.reset();
  loop.join();
}

TEST(DbPool, DuplicateKeyIsConflictAndBadSqlIsServerError) {
  test::exec_root("CREATE TABLE IF NOT EXISTS hmdp.t_pool_unique (id INT PRIMARY KEY)");
  test::exec_root("DELETE FROM hmdp.t_pool_unique");
  db::Pool pool(test::pool_options(1));
  asio::io_context ctx;
  auto first =
      asio::co_spawn(ctx, pool.execute("INSERT INTO t_pool_unique VALUES (7)"), asio::use_future);
  auto second =
      asio::co_spawn(ctx, pool.execute("INSERT INTO t_pool_unique VALUES (7)"), asio::use_future);
  auto bad = asio::co_spawn(ctx, pool.query("SELEC nonsense"), asio::use_future);
  ctx.run();
  EXPECT_TRUE(first.get());
  auto dup = second.get();
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error(), Errc::kConflict);
  auto b = bad.get();
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error(), Errc::kServerError);
}

TEST(DbPool, ReconnectsAfterTheServerKillsTheConnection) {
  db::Options o = test::pool_options(1);
  db::Connection conn(o);
  auto id = conn.query("SELECT CONNECTION_ID()");
  ASSERT_TRUE(id);
  test::exec_root("KILL " + *id->rows[0][0]);
  // The cached statement died with the connection: the first call reports it (never retried
  // blindly, it may have been a write); the next one reconnects.
  auto after = conn.query("SELECT CONNECTION_ID()");
  if (!after) {
    EXPECT_EQ(after.error(), Errc::kUnavailable);
    after = conn.query("SELECT CONNECTION_ID()");
  }
  ASSERT_TRUE(after);
  EXPECT_NE(*after->rows[0][0], *id->rows[0][0]);
}

TEST(ShopRepository, FindsSeededShopsAndTypes) {
  db::Pool pool(test::pool_options(2));
  db::ShopRepository shops(pool);
  asio::io_context ctx;
  auto one = asio::co_spawn(ctx, shops.find(1), asio::use_future);
  auto none = asio::co_spawn(ctx, shops.find(987654321), asio::use_future);
  auto types = asio::co_spawn(ctx, shops.types(), asio::use_future);
  ctx.run();
  auto s = one.get();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->has_value());
  EXPECT_EQ((*s)->id, 1);
  EXPECT_FALSE((*s)->name.empty());
  EXPECT_GE((*s)->x, 120.0);
  EXPECT_LE((*s)->x, 120.4);
  EXPECT_EQ((*s)->create_time.size(), 19u);  // 2021-01-01T00:04:04
  EXPECT_EQ((*s)->create_time[10], 'T');
  auto n = none.get();
  ASSERT_TRUE(n);
  EXPECT_FALSE(n->has_value());
  auto t = types.get();
  ASSERT_TRUE(t);
  ASSERT_EQ(t->size(), 10u);
  for (size_t i = 1; i < t->size(); ++i) EXPECT_LE((*t)[i - 1].sort, (*t)[i].sort);
}

// Loads the generator into a fresh database and returns the checksums of its tables.
std::map<std::string, std::string> seed_into(const std::string& database, int seed) {
  test::exec_root("DROP DATABASE IF EXISTS " + database);
  test::exec_root("CREATE DATABASE " + database + " CHARACTER SET utf8mb4");
  app::Config config;
  config.db = test::root_db();
  config.db.database = database;
  app::SeedOptions options;
  options.scale = 0.01;
  options.seed = seed;
  EXPECT_EQ(app::run_seed(config, options), 0);
  db::Connection conn(config.db);
  std::map<std::string, std::string> out;
  for (const char* t : {"tb_user", "tb_user_info", "tb_shop", "tb_shop_type", "tb_voucher",
                        "tb_blog", "tb_follow"}) {
    auto rows = conn.query(std::string("CHECKSUM TABLE ") + t);
    EXPECT_TRUE(rows);
    if (rows && !rows->empty()) out[t] = rows->rows[0][1].value_or("");
  }
  return out;
}

TEST(Seed, CountsMatchTheScaleAndPhonesAreValid) {
  seed_into("surge_seed_a", 42);
  db::Options o = test::root_db();
  o.database = "surge_seed_a";
  db::Connection conn(o);
  auto count = [&](const std::string& sql) {
    auto rows = conn.query(sql);
    EXPECT_TRUE(rows) << sql;
    return rows ? db::to_int64(rows->rows[0][0]).value_or(-1) : -1;
  };
  EXPECT_EQ(count("SELECT COUNT(*) FROM tb_user"), 1020);  // round(102005 * 0.01)
  EXPECT_EQ(count("SELECT COUNT(*) FROM tb_shop"), 501);   // round(50114 * 0.01)
  EXPECT_EQ(count("SELECT COUNT(*) FROM tb_shop_type"), 10);
  EXPECT_EQ(count("SELECT COUNT(*) FROM tb_seckill_voucher"), 110);
  EXPECT_EQ(count("SELECT SUM(stock) FROM tb_seckill_voucher"), 10100);
  EXPECT_EQ(count("SELECT COUNT(DISTINCT phone) FROM tb_user"), 1020);
  EXPECT_EQ(count("SELECT COUNT(*) FROM tb_user WHERE phone NOT REGEXP "
                  "'^1([38][0-9]|4[579]|5[0-3,5-9]|6[6]|7[0135678]|9[89])[0-9]{8}$'"),
            0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM tb_shop WHERE x NOT BETWEEN 120.0 AND 120.4 "
                  "OR y NOT BETWEEN 30.1 AND 30.45"),
            0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM tb_seckill_voucher WHERE begin_time > NOW() "
                  "OR end_time < NOW()"),
            0);
}

TEST(Seed, SameSeedSameRowsOtherSeedOtherRows) {
  auto a = seed_into("surge_seed_a", 42);
  auto b = seed_into("surge_seed_b", 42);
  auto c = seed_into("surge_seed_c", 7);
  ASSERT_EQ(a.size(), 7u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a["tb_user"], c["tb_user"]);
  EXPECT_NE(a["tb_shop"], c["tb_shop"]);
  for (const char* d : {"surge_seed_a", "surge_seed_b", "surge_seed_c"}) {
    test::exec_root(std::string("DROP DATABASE IF EXISTS ") + d);
  }
}

}  // namespace
}  // namespace surge
