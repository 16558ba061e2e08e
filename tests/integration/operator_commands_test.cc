// The operator commands as an operator runs them: the `surge` binary against the fixture stores.
// A voucher created by `surge voucher create` sells at once; an order the writer dead-letters
// for real (a collision with a row planted behind the sale's back) is listed by `surge orders
// dead`, and after the fix `surge orders replay` gets it persisted exactly once with the queued
// state clean (`surge reconcile` agrees); `surge cache flush` empties a class in Redis and in the
// near caches of a running server; every command refuses bad flags with exit 2.
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "db/connection.h"
#include "redis/client.h"
#include "redis/connection.h"
#include "sale/flash_sale.h"
#include "sale/order_writer.h"
#include "support/api.h"
#include "support/drive.h"
#include "support/processes.h"
#include "support/stores.h"

namespace surge {
namespace {

using namespace std::chrono_literals;
using test::Child;
using test::run_co;

struct Run {
  int exit = -1;
  std::string out;  // stdout and stderr
};

// One `surge` command against the fixture stores.
Run surge(std::vector<std::string> args) {
  char path[] = "/tmp/surge-operator-XXXXXX";
  int fd = ::mkstemp(path);
  EXPECT_GE(fd, 0);
  ::close(fd);
  args.insert(args.begin(), SURGE_BINARY);
  Run r;
  r.exit = Child(args, test::surge_env(), path).wait(30s);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  r.out = text.str();
  ::unlink(path);
  return r;
}

std::string str(int64_t v) { return std::to_string(v); }

int64_t scalar(const std::string& sql) {
  db::Connection conn(test::stores().db);
  auto r = conn.query(sql);
  EXPECT_TRUE(r) << sql;
  return r && !r->empty() ? db::to_int64(r->rows[0][0]).value_or(-1) : -1;
}

void exec(const std::string& sql) {
  db::Connection conn(test::stores().db);
  auto r = conn.execute(sql);
  ASSERT_TRUE(r) << sql << ": " << r.error().message();
}

int64_t create_voucher(int64_t stock) {
  auto r = surge({"voucher", "create", "--shop", "1", "--title", "operator test", "--value", "2000",
                  "--pay", "1000", "--stock", str(stock), "--minutes", "30"});
  EXPECT_EQ(r.exit, 0) << r.out;
  std::smatch m;
  std::regex line("(^|\n)([0-9]+)\n");
  EXPECT_TRUE(std::regex_search(r.out, m, line)) << r.out;
  return m.empty() ? 0 : std::stoll(m[2]);
}

TEST(OperatorCommands, VersionNamesTheCommit) {
  auto r = surge({"--version"});
  EXPECT_EQ(r.exit, 0);
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(^surge \d+\.\d+\.\d+ \(commit \S+\)\n$)")))
      << r.out;
}

TEST(OperatorCommands, EveryCommandHasHelpAndRefusesBadFlagsWithExitTwo) {
  for (std::vector<std::string> cmd : {std::vector<std::string>{"orders"},
                                       {"orders", "dead"},
                                       {"orders", "replay"},
                                       {"cache"},
                                       {"cache", "stats"},
                                       {"cache", "flush"},
                                       {"voucher", "create"}}) {
    auto help = cmd;
    help.push_back("--help");
    auto h = surge(help);
    EXPECT_EQ(h.exit, 0) << cmd[0] << ": " << h.out;
    EXPECT_NE(h.out.find("Usage"), std::string::npos) << h.out;
    auto bad = cmd;
    bad.push_back("--no-such-flag");
    EXPECT_EQ(surge(bad).exit, 2) << cmd[0];
  }
  EXPECT_EQ(surge({"orders", "replay"}).exit, 2);  // neither --order nor --all
  EXPECT_EQ(surge({"orders", "replay", "--all", "--order", "5"}).exit, 2);
  EXPECT_EQ(surge({"orders", "--voucher", "x"}).exit, 2);
  EXPECT_EQ(surge({"cache", "stats", "--class", "nope"}).exit, 2);
  EXPECT_EQ(surge({"cache"}).exit, 2);                             // stats or flush
  EXPECT_EQ(surge({"voucher", "create", "--shop", "1"}).exit, 2);  // required flags missing
  std::vector<std::string> create{"voucher", "create", "--shop", "1", "--title", "t",
                                  "--value", "1",      "--pay",  "1", "--stock", "1"};
  auto both = create;
  both.insert(both.end(), {"--end", "2030-01-01T00:00:00", "--minutes", "5"});
  EXPECT_EQ(surge(both).exit, 2);
  auto backwards = create;
  backwards.insert(backwards.end(),
                   {"--begin", "2030-01-02T00:00:00", "--end", "2030-01-01T00:00:00"});
  auto r = surge(backwards);
  EXPECT_EQ(r.exit, 2);
  EXPECT_NE(r.out.find("end after it begins"), std::string::npos) << r.out;
  auto zero = create;
  zero[11] = "0";
  EXPECT_EQ(surge(zero).exit, 2);
}

TEST(OperatorCommands, VoucherCreatePutsTheSaleInBothStores) {
  int64_t voucher = create_voucher(7);
  ASSERT_GT(voucher, 0);
  EXPECT_EQ(scalar("SELECT stock FROM tb_seckill_voucher WHERE voucher_id = " + str(voucher)), 7);
  EXPECT_EQ(scalar("SELECT type FROM tb_voucher WHERE id = " + str(voucher)), 1);
  sale::FlashSale sale(4);
  EXPECT_EQ(test::redis_cli("HGET " + sale.voucher_key(voucher) + " stock"), "7");
  auto r = surge({"orders", "--voucher", str(voucher)});
  EXPECT_EQ(r.exit, 0) << r.out;
  EXPECT_TRUE(
      std::regex_search(r.out, std::regex("\\s" + str(voucher) + "\\s+7\\s+0\\s+0\\s+0\\s+0\\n")))
      << r.out;
}

// An order writer of this process on the shared sale ("seckill", 4 shards), as `surge serve`
// runs it; writers of parallel suites may take some entries, with the same outcome. Such a writer
// may also be stopped (its suite ends) with an entry read and unacknowledged: this one claims
// entries idle for a second, so the test does not wait out the default 30 s.
class Writer {
 public:
  Writer() {
    sale::WriterOptions o;
    o.consumer = "operator-test-" + str(::getpid());
    o.block = 200ms;
    o.claim_idle = 1s;
    o.claim_every = 500ms;
    writer_ = sale::OrderWriter::create(
        ctx_.get_executor(), sale::node_clients(ctx_.get_executor(), test::stores().redis), repo_,
        sale_, o);
    writer_->start();
    conn_ = redis::NodeClient::create(ctx_.get_executor(), test::stores().redis);
    conn_->start();
    EXPECT_TRUE(run_co(ctx_, conn_->wait_ready(3s)));
  }
  ~Writer() {
    writer_->stop();
    conn_->stop();
    test::drive_for(ctx_, 400ms);
    pool_.stop();
  }
  sale::FlashSale& sale() { return sale_; }
  sale::SaleOutcome buy(int64_t voucher, int64_t user, int64_t order) {
    redis::NodeClient node(*conn_);
    auto r = run_co(ctx_, sale_.buy(node, voucher, user, order));
    EXPECT_TRUE(r);
    return r ? *r : sale::SaleOutcome::kNoSuchVoucher;
  }
  std::optional<sale::FlashSale::QueuedOrder> queued(int64_t order) {
    redis::NodeClient node(*conn_);
    auto q = run_co(ctx_, sale_.queued(node, order));
    EXPECT_TRUE(q);
    return q ? *q : std::nullopt;
  }
  // Runs the writer until `done()` holds, or 20 s pass.
  template <class Pred>
  bool until(Pred done) {
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      test::drive_for(ctx_, 50ms);
    }
    return true;
  }

 private:
  boost::asio::io_context ctx_;
  db::Pool pool_{test::stores().db};
  db::VoucherRepository repo_{pool_};
  sale::FlashSale sale_{4};
  std::shared_ptr<sale::OrderWriter> writer_;
  std::shared_ptr<redis::NodeClient> conn_;
};

TEST(OperatorCommands, ADeadLetterIsListedAndReplayedIntoExactlyOneOrder) {
  int64_t voucher = create_voucher(5);
  ASSERT_GT(voucher, 0);
  const int64_t u1 = 7'100'000 + ::getpid() % 100'000, u2 = u1 + 200'000;
  const int64_t planted1 = voucher * 1'000'000 + 1, planted2 = voucher * 1'000'000 + 2;
  const int64_t order1 = voucher * 1'000'000 + 11, order2 = voucher * 1'000'000 + 12;
  // Rows the sale never saw: the sale accepts both users, and the writer finds each (user,
  // voucher) already holding another order: a collision, dead-lettered.
  exec("INSERT INTO tb_voucher_order (id, user_id, voucher_id) VALUES (" + str(planted1) + ", " +
       str(u1) + ", " + str(voucher) + "), (" + str(planted2) + ", " + str(u2) + ", " +
       str(voucher) + ")");
  Writer w;
  ASSERT_EQ(w.buy(voucher, u1, order1), sale::SaleOutcome::kAccepted);
  ASSERT_EQ(w.buy(voucher, u2, order2), sale::SaleOutcome::kAccepted);
  ASSERT_TRUE(w.until([&] {
    auto q1 = w.queued(order1), q2 = w.queued(order2);
    return q1 && q1->dead && q2 && q2->dead;
  }));

  auto dead = surge({"orders", "dead", "--voucher", str(voucher)});
  EXPECT_EQ(dead.exit, 0) << dead.out;
  for (auto [order, user] : {std::pair{order1, u1}, std::pair{order2, u2}}) {
    EXPECT_NE(
        dead.out.find("order " + str(order) + " user " + str(user) + " voucher " + str(voucher)),
        std::string::npos)
        << dead.out;
  }
  EXPECT_NE(dead.out.find("reason: collision"), std::string::npos) << dead.out;
  EXPECT_NE(dead.out.find("2 dead letters"), std::string::npos) << dead.out;
  auto summary = surge({"orders", "--voucher", str(voucher)});
  EXPECT_TRUE(std::regex_search(
      summary.out, std::regex("\\s" + str(voucher) + "\\s+\\d+\\s+\\d+\\s+0\\s+2\\s+2\\n")))
      << summary.out;

  // Replayed while the cause remains: dead-lettered again, nothing persisted twice.
  auto again = surge({"orders", "replay", "--order", str(order1)});
  EXPECT_EQ(again.exit, 0) << again.out;
  ASSERT_TRUE(w.until([&] {
    auto q = w.queued(order1);
    return q && q->dead;
  }));
  // ... and the listing still has it (once), after the writer has dead-lettered it anew.
  ASSERT_TRUE(w.until([&] {
    return surge({"orders", "dead", "--voucher", str(voucher)}).out.find("2 dead letters") !=
           std::string::npos;
  }));

  // The fix: the planted rows go. Replay one by id and the rest by voucher.
  exec("DELETE FROM tb_voucher_order WHERE id IN (" + str(planted1) + ", " + str(planted2) + ")");
  auto one = surge({"orders", "replay", "--order", str(order1)});
  EXPECT_EQ(one.exit, 0) << one.out;
  EXPECT_NE(one.out.find("1 replayed"), std::string::npos) << one.out;
  auto rest = surge({"orders", "replay", "--all", "--voucher", str(voucher)});
  EXPECT_EQ(rest.exit, 0) << rest.out;
  EXPECT_NE(rest.out.find("1 replayed"), std::string::npos) << rest.out;
  ASSERT_TRUE(w.until([&] { return !w.queued(order1) && !w.queued(order2); }));

  EXPECT_EQ(scalar("SELECT COUNT(*) FROM tb_voucher_order WHERE voucher_id = " + str(voucher)), 2);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM tb_voucher_order WHERE id IN (" + str(order1) + ", " +
                   str(order2) + ")"),
            2);
  EXPECT_EQ(scalar("SELECT stock FROM tb_seckill_voucher WHERE voucher_id = " + str(voucher)), 3);
  auto after = surge({"orders", "dead", "--voucher", str(voucher)});
  EXPECT_NE(after.out.find("0 dead letters"), std::string::npos) << after.out;
  auto counts = surge({"orders", "--voucher", str(voucher)});
  EXPECT_TRUE(std::regex_search(
      counts.out, std::regex("\\s" + str(voucher) + "\\s+\\d+\\s+\\d+\\s+0\\s+2\\s+0\\n")))
      << counts.out;
  auto reconcile = surge({"reconcile", "--voucher", str(voucher)});
  EXPECT_EQ(reconcile.exit, 0) << reconcile.out;
  EXPECT_NE(reconcile.out.find("0 queued, 0 dead-lettered, 0 with differences"), std::string::npos)
      << reconcile.out;

  // Nothing is left to replay: a second replay changes nothing.
  auto twice = surge({"orders", "replay", "--order", str(order1)});
  EXPECT_EQ(twice.exit, 1) << twice.out;
  EXPECT_NE(twice.out.find("no dead letter"), std::string::npos) << twice.out;
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM tb_voucher_order WHERE voucher_id = " + str(voucher)), 2);
}

int64_t metric(const std::string& text, const std::string& sample) {
  auto at = text.find("\n" + sample + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + sample.size() + 2));
}

// A shop planted in MariaDB before the server starts (so its Bloom filter knows it) is read
// into the caches; its row then changes behind the cache's back. `surge cache flush` must take
// it out of Redis and out of the server's near cache, so the next read shows the new row.
TEST(OperatorCommands, CacheStatsCountAndFlushEmptiesRedisAndNearCaches) {
  const std::string name = "flush shop " + str(::getpid());
  exec(
      "INSERT INTO tb_shop (name, type_id, images, address, x, y, sold, comments, score) VALUES "
      "('" +
      name + "', 1, '', 'a', 120.1, 30.2, 0, 0, 0)");
  int64_t shop = scalar("SELECT id FROM tb_shop WHERE name = '" + name + "'");
  ASSERT_GT(shop, 0);
  test::SurgeServer server;  // two workers, each with its near cache
  auto path = "/shop/" + str(shop);
  for (int i = 0; i < 8; ++i) {  // new connections: the kernel spreads them over both workers
    auto [status, body] = test::http_get(server.port(), path);
    ASSERT_EQ(status, 200);
    ASSERT_NE(body.find(name), std::string::npos) << body;
  }
  EXPECT_NE(test::redis_cli("EXISTS cache:shop:" + str(shop)), "0");

  auto stats = surge({"cache", "stats", "--class", "shop"});
  EXPECT_EQ(stats.exit, 0) << stats.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(stats.out, m, std::regex(R"(\nshop\s+(\d+)\s+(\d+)\s+(\d+))")))
      << stats.out;
  EXPECT_GE(std::stoll(m[1]), 1);
  EXPECT_GT(std::stoll(m[3]), 0);

  exec("UPDATE tb_shop SET name = '" + name + " renamed' WHERE id = " + str(shop));
  auto before = metric(test::http_get(server.admin_port(), "/metrics").second,
                       "surge_cache_invalidations_total{class=\"shop\"}");
  auto flush = surge({"cache", "flush", "--class", "shop"});
  EXPECT_EQ(flush.exit, 0) << flush.out;
  EXPECT_EQ(test::redis_cli("EXISTS cache:shop:" + str(shop)), "0");
  // The server has taken the flush message off its feed (it counts it) ...
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (metric(test::http_get(server.admin_port(), "/metrics").second,
                "surge_cache_invalidations_total{class=\"shop\"}") <= before &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  // ... so its near cache no longer has the old row (its 10 s lifetime has not run out).
  auto [status, body] = test::http_get(server.port(), path);
  EXPECT_EQ(status, 200);
  EXPECT_NE(body.find(name + " renamed"), std::string::npos) << body;
  exec("DELETE FROM tb_shop WHERE id = " + str(shop));
}

}  // namespace
}  // namespace surge
