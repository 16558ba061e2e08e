// The database layer's limits against a real server: the bounded statement cache, the queue
// deadline, deep offsets, shop validation before any write, and the start-up geo load that skips
// bad rows.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "cache/shop_places.h"
#include "db/blog_repository.h"
#include "db/pool.h"
#include "db/shop_repository.h"
#include "db/sql_list.h"
#include "support/api.h"
#include "support/stores.h"

namespace surge {
namespace {

namespace asio = boost::asio;

// Runs one awaitable to completion on a private io_context.
template <class A>
auto run_co(A awaitable) {
  asio::io_context ctx;
  auto f = asio::co_spawn(ctx, std::move(awaitable), asio::use_future);
  ctx.run();
  return f.get();
}

// One number read as root.
int64_t count_root(const std::string& sql) {
  db::Options root = test::root_db();
  db::Connection conn(root);
  auto r = conn.query(sql);
  EXPECT_TRUE(r) << sql;
  return r && !r->empty() ? db::to_int64(r->rows[0][0]).value_or(-1) : -1;
}

// The server-wide count of open prepared statements (every client's).
int64_t prepared_statements() {
  db::Options root = test::root_db();
  db::Connection conn(root);
  auto r = conn.query("SHOW GLOBAL STATUS LIKE 'Prepared_stmt_count'");
  EXPECT_TRUE(r);
  return r && !r->empty() ? db::to_int64(r->rows[0][1]).value_or(-1) : -1;
}

// The columns POST /shop writes for a valid shop.
db::ShopFields sample_shop(double y = 30.2) {
  return {{"name", std::string("limits test")},
          {"type_id", int64_t{1}},
          {"images", std::string()},
          {"address", std::string("1 Test Road")},
          {"x", 120.1},
          {"y", y},
          {"sold", int64_t{0}},
          {"comments", int64_t{0}},
          {"score", int64_t{0}}};
}

TEST(StatementCache, OneConnectionKeepsAtMostItsLimitAndClosesTheRest) {
  db::Options o = test::pool_options(1);
  o.max_statements = 8;
  db::Connection conn(o);
  for (int i = 0; i < 50; ++i) {
    auto r = conn.query("SELECT " + std::to_string(i) + " + ?", {db::Param(int64_t{1})});
    ASSERT_TRUE(r);
    EXPECT_EQ(db::to_int64(r->rows[0][0]), i + 1);
  }
  EXPECT_EQ(conn.cached_statements(), 8u);
  // The most recent shapes are the ones kept: reusing one does not prepare again.
  auto again = conn.query("SELECT 49 + ?", {db::Param(int64_t{1})});
  ASSERT_TRUE(again);
  EXPECT_EQ(conn.cached_statements(), 8u);
}

// The attack from the field: PUT /shop with ever-different field sets gives ever-different
// UPDATE statements. Through a pool they must not pile up on the server, and reads that need a
// new statement must still work afterwards.
TEST(StatementCache, VaryingShopUpdatesDoNotGrowServerStatements) {
  db::Options o = test::pool_options(2);
  o.max_statements = 16;
  int64_t before = prepared_statements();
  {
    db::Pool pool(o);
    db::ShopRepository shops(pool);
    // A shop of this test's own, so suites reading the seeded ones are not disturbed.
    auto created = run_co(shops.insert(sample_shop()));
    ASSERT_TRUE(created);
    int64_t id = *created;
    const char* columns[] = {"name",     "area",  "address",    "avg_price", "sold",
                             "comments", "score", "open_hours", "images"};
    std::atomic<int> ok{0};
    asio::io_context ctx;
    // Every non-empty subset of nine columns, in two orders: 1,022 distinct statements.
    for (int mask = 1; mask < (1 << 9); ++mask) {
      for (int reversed = 0; reversed < 2; ++reversed) {
        db::ShopFields fields;
        for (int c = 0; c < 9; ++c) {
          int col = reversed ? 8 - c : c;
          if (!(mask & (1 << col))) continue;
          std::string name = columns[col];
          if (name == "avg_price" || name == "sold" || name == "comments") {
            fields.emplace_back(name, int64_t{10});
          } else if (name == "score") {
            fields.emplace_back(name, int64_t{40});
          } else {
            fields.emplace_back(name, std::string("x"));
          }
        }
        asio::co_spawn(
            ctx,
            [&, fields = std::move(fields)]() mutable -> asio::awaitable<void> {
              auto r = co_await shops.update(id, std::move(fields));
              if (r && *r) ++ok;
            },
            asio::detached);
      }
    }
    ctx.run();
    EXPECT_EQ(ok.load(), 1022);
    int64_t during = prepared_statements();
    // Two connections keep at most 16 each; other suites sharing the server may hold some of
    // their own, but nowhere near the 1,022 an unbounded cache would leave behind.
    EXPECT_LT(during - before, 2 * 16 + 200) << "before " << before << ", during " << during;
    auto shop = run_co(shops.find(id));
    ASSERT_TRUE(shop);
    EXPECT_TRUE(shop->has_value());
  }
}

// A job that waited for a connection beyond the queue deadline is dropped without running: the
// single connection is held by a one-second sleep, so five inserts queued behind it outwait a
// 50 ms deadline and none of them may reach the table.
TEST(PoolDeadline, JobsThatOutwaitedTheirDeadlineNeverRun) {
  test::exec_root("CREATE TABLE IF NOT EXISTS hmdp.t_limits_deadline (n INT)");
  test::exec_root("DELETE FROM hmdp.t_limits_deadline");
  db::Options o = test::pool_options(1);
  o.queue_timeout = std::chrono::milliseconds(50);
  db::Pool pool(o);
  std::atomic<int> slept{0}, timed_out{0}, other{0};
  asio::io_context ctx;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        auto r = co_await pool.query("SELECT SLEEP(1)");
        if (r) ++slept;
      },
      asio::detached);
  for (int i = 0; i < 5; ++i) {
    asio::co_spawn(
        ctx,
        [&]() -> asio::awaitable<void> {
          auto r = co_await pool.execute("INSERT INTO t_limits_deadline VALUES (1)");
          if (!r && r.error() == Errc::kTimeout) {
            ++timed_out;
          } else {
            ++other;
          }
        },
        asio::detached);
  }
  ctx.run();
  EXPECT_EQ(slept.load(), 1);
  EXPECT_EQ(timed_out.load(), 5);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(pool.expired(), 5u);
  EXPECT_EQ(count_root("SELECT COUNT(*) FROM hmdp.t_limits_deadline"), 0);
  // Jobs that did not wait long run as usual.
  auto r = run_co(pool.execute("INSERT INTO t_limits_deadline VALUES (2)"));
  ASSERT_TRUE(r);
  EXPECT_EQ(count_root("SELECT COUNT(*) FROM hmdp.t_limits_deadline"), 1);
}

TEST(DeepOffsets, PagesPastTheLimitAreRefusedWithoutAQuery) {
  db::Pool pool(test::pool_options(1));
  db::ShopRepository shops(pool);
  db::BlogRepository blogs(pool);
  auto last = run_co(shops.page_by_type(1, db::kMaxOffset, 5));
  ASSERT_TRUE(last);
  EXPECT_TRUE(last->empty());  // the seeded data set is smaller than that
  for (int64_t offset : {db::kMaxOffset + 1, int64_t{1} << 40, int64_t{-1}}) {
    auto t = run_co(shops.page_by_type(1, offset, 5));
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error(), Errc::kInvalidArgument);
    auto n = run_co(shops.page_by_name("a", offset, 10));
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error(), Errc::kInvalidArgument);
    auto h = run_co(blogs.page_hot(offset, 10));
    ASSERT_FALSE(h);
    EXPECT_EQ(h.error(), Errc::kInvalidArgument);
    auto u = run_co(blogs.page_by_user(1, offset, 10));
    ASSERT_FALSE(u);
    EXPECT_EQ(u.error(), Errc::kInvalidArgument);
  }
}

TEST(ShopValidation, EveryStoreMustAcceptAFieldBeforeItIsWritten) {
  EXPECT_FALSE(db::check_shop_fields(sample_shop()));
  EXPECT_FALSE(db::check_shop_fields(sample_shop(db::kMaxLatitude)));
  auto lat = db::check_shop_fields(sample_shop(89));
  ASSERT_TRUE(lat);
  EXPECT_NE(lat->find("y"), std::string::npos) << *lat;
  EXPECT_TRUE(db::check_shop_fields({{"x", 180.5}}));
  EXPECT_TRUE(db::check_shop_fields({{"x", std::nan("")}}));
  EXPECT_TRUE(db::check_shop_fields({{"name", std::string(129, 'a')}}));
  EXPECT_FALSE(db::check_shop_fields({{"name", std::string(128, 'a')}}));
  EXPECT_TRUE(db::check_shop_fields({{"score", int64_t{51}}}));
  EXPECT_TRUE(db::check_shop_fields({{"sold", int64_t{-1}}}));
  EXPECT_TRUE(db::check_shop_fields({{"type_id", std::string("1")}}));
  EXPECT_TRUE(db::check_shop_fields({{"id", int64_t{1}}}));  // not a writable column

  // The repository applies the same check: nothing reaches the table.
  db::Pool pool(test::pool_options(1));
  db::ShopRepository shops(pool);
  int64_t before = count_root("SELECT COUNT(*) FROM hmdp.tb_shop WHERE y > 85.05112878");
  auto refused = run_co(shops.insert(sample_shop(89)));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), Errc::kInvalidArgument);
  auto update = run_co(shops.update(1, {{"y", 89.0}}));
  ASSERT_FALSE(update);
  EXPECT_EQ(update.error(), Errc::kInvalidArgument);
  EXPECT_EQ(count_root("SELECT COUNT(*) FROM hmdp.tb_shop WHERE y > 85.05112878"), before);
}

// Over HTTP: a shop the geo index would refuse is a 400 naming the field, and no row is left
// behind (before, it was committed and then answered 500, so a retry duplicated it).
TEST(ShopValidation, LatitudeEightyNineIsA400AndNoRowIsCommitted) {
  test::SurgeServer surge;
  const std::string name = "lat89-" + std::to_string(::getpid());
  std::string body = R"({"name":")" + name + R"(","typeId":1,"x":120.1,"y":89})";
  auto r = test::api(surge.port(), "POST", "/shop", test::stores().admin_token, body);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("y"), std::string::npos) << r.body;
  EXPECT_EQ(count_root("SELECT COUNT(*) FROM hmdp.tb_shop WHERE name = '" + name + "'"), 0);
  auto put =
      test::api(surge.port(), "PUT", "/shop", test::stores().admin_token, R"({"id":1,"y":89})");
  EXPECT_EQ(put.status, 400) << put.body;
  EXPECT_EQ(count_root("SELECT COUNT(*) FROM hmdp.tb_shop WHERE id = 1 AND y > 85.05112878"), 0);
  // A valid one still goes through.
  body = R"({"name":")" + name + R"(","typeId":1,"x":120.1,"y":30.2})";
  auto ok = test::api(surge.port(), "POST", "/shop", test::stores().admin_token, body);
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(count_root("SELECT COUNT(*) FROM hmdp.tb_shop WHERE name = '" + name + "'"), 1);
  test::exec_root("DELETE FROM hmdp.tb_shop WHERE name = '" + name + "'");
  // Deep pages are refused at the door rather than scanned.
  EXPECT_EQ(test::api(surge.port(), "GET", "/shop/of/name?name=a&current=5000").status, 400);
  EXPECT_EQ(test::api(surge.port(), "GET", "/shop/of/type?typeId=1&current=5000").status, 400);
}

// A row planted behind the API's back with a latitude the geo index refuses: the start-up load
// names it, skips it, and loads the good shop of the same type.
TEST(GeoLoad, ABadRowIsSkippedAndReportedAndTheRestLoads) {
  const int64_t type = 9000 + ::getpid() % 900;
  test::exec_root("DELETE FROM hmdp.tb_shop WHERE type_id = " + std::to_string(type));
  test::exec_root(
      "INSERT INTO hmdp.tb_shop (name, type_id, images, address, x, y, sold, comments, score) "
      "VALUES ('geo good', " +
      std::to_string(type) +
      ", '', 'a', 120.1, 30.2, 0, 0, 0), "
      "('geo bad', " +
      std::to_string(type) + ", '', 'a', 120.1, 89, 0, 0, 0)");
  ASSERT_FALSE(HasFatalFailure());
  int64_t bad = count_root("SELECT id FROM hmdp.tb_shop WHERE name = 'geo bad' AND type_id = " +
                           std::to_string(type));
  const std::string key = cache::shop_geo_key(type);
  test::redis_cli("DEL " + key);

  char tmpl[] = "/tmp/surge-geoload-XXXXXX";
  int fd = ::mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ::close(fd);
  const std::string log = tmpl;
  auto env = test::surge_env();
  for (auto& e : env) {
    if (e.starts_with("SURGE_LOG_LEVEL=")) e = "SURGE_LOG_LEVEL=info";  // for the summary line
  }
  uint16_t port = test::free_port();
  test::Child surge({SURGE_BINARY, "serve", "--port", std::to_string(port), "--listen", "127.0.0.1",
                     "--workers", "1"},
                    env, log);
  auto read_log = [&] {
    std::ifstream in(log);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  // The load logs one summary line when it is done.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (read_log().find("type indexes") == std::string::npos &&
         read_log().find("geo: loading the index failed") == std::string::npos &&
         std::chrono::steady_clock::now() < until) {
    ASSERT_TRUE(surge.running()) << read_log();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::string text = read_log();
  EXPECT_NE(text.find("geo: skipped shop " + std::to_string(bad) + ":"), std::string::npos) << text;
  EXPECT_EQ(text.find("geo: loading the index failed"), std::string::npos) << text;
  EXPECT_EQ(test::redis_cli("ZCARD " + key), "1");
  EXPECT_EQ(test::redis_cli("ZSCORE " + key + " " + std::to_string(bad)), "");
  surge.kill(SIGTERM);
  surge.wait(std::chrono::seconds(20));
  test::exec_root("DELETE FROM hmdp.tb_shop WHERE type_id = " + std::to_string(type));
  ::unlink(log.c_str());
}

}  // namespace
}  // namespace surge
