// The flash sale through real `surge serve` processes: login required, the original's answers,
// order status, voucher creation and listing, and no accepted order lost when an instance is
// killed with orders read but not committed (restart under the same name, or another instance
// taking them over), after which `surge reconcile` finds nothing to repair.
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include "db/connection.h"
#include "redis/commands.h"
#include "sale/flash_sale.h"
#include "social/sessions.h"
#include "support/api.h"
#include "support/drive.h"
#include "support/processes.h"
#include "support/sessions.h"
#include "support/stores.h"

namespace surge::test {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

json::value parse(const std::string& body) { return json::parse(body); }

// A sale whose window is open (or, with `ended`, closed since 2021).
int64_t create_sale(uint16_t port, int stock, bool ended = false) {
  std::string end = ended ? "2021-01-01T00:00:00" : "2037-12-31T00:00:00";
  auto [status, body] = admin_send(
      port, "POST", "/voucher/seckill",
      R"({"shopId":2,"title":"限时抢购","subTitle":"测试","rules":"每人一张","payValue":800,)"
      R"("actualValue":1000,"type":1,"stock":)" +
          std::to_string(stock) + R"(,"beginTime":"2020-01-01T00:00:00","endTime":")" + end +
          R"("})");
  EXPECT_EQ(status, 200) << body;
  return parse(body).at("data").as_int64();
}

int64_t db_count(const std::string& sql, int64_t arg) {
  db::Connection c(stores().db);
  db::Params p;
  p.emplace_back(arg);
  auto rows = c.query(sql, p);
  return rows && !rows->empty() ? db::to_int64(rows->rows[0][0]).value_or(-1) : -1;
}
int64_t orders_of(int64_t voucher) {
  return db_count("SELECT COUNT(*) FROM tb_voucher_order WHERE voucher_id = ?", voucher);
}

TEST(FlashSaleHttp, LoginOrderStatusAndTheOriginalAnswers) {
  SurgeServer a;
  TestSessions sessions;
  int64_t voucher = create_sale(a.port(), 2);
  std::string path = "/voucher-order/seckill/" + std::to_string(voucher);

  auto anon = http_send(a.port(), "POST", path);
  EXPECT_EQ(anon.first, 401);
  EXPECT_EQ(anon.second, "");
  EXPECT_EQ(
      http_send(a.port(), "POST", path, "", {"authorization: 0123456789abcdef0123456789abcdef"})
          .first,
      401);

  std::string alice = sessions.login(501), bob = sessions.login(502), carol = sessions.login(503);
  auto [s1, b1] = http_send(a.port(), "POST", path, "", {alice});
  ASSERT_EQ(s1, 200) << b1;
  auto order = parse(b1);
  ASSERT_TRUE(order.at("success").as_bool()) << b1;
  int64_t order_id = order.at("data").as_int64();
  EXPECT_GT(order_id, int64_t{1} << 32);
  EXPECT_EQ(http_send(a.port(), "POST", path, "", {alice}).second,
            R"({"success":false,"errorMsg":"不能重复下单"})");
  EXPECT_TRUE(parse(http_send(a.port(), "POST", path, "", {bob}).second).at("success").as_bool());
  EXPECT_EQ(http_send(a.port(), "POST", path, "", {carol}).second,
            R"({"success":false,"errorMsg":"库存不足"})");
  EXPECT_EQ(http_send(a.port(), "POST", "/voucher-order/seckill/987654321", "", {carol}).second,
            R"({"success":false,"errorMsg":"秒杀券不存在"})");
  EXPECT_EQ(http_send(a.port(), "POST", "/voucher-order/seckill/abc", "", {carol}).first, 400);

  // The buyer sees the order, queued then persisted; nobody else does.
  std::string status_path = "/voucher-order/" + std::to_string(order_id);
  std::string state;
  auto until = std::chrono::steady_clock::now() + 10s;
  while (state != "persisted" && std::chrono::steady_clock::now() < until) {
    auto [st, body] = http_send(a.port(), "GET", status_path, "", {alice});
    ASSERT_EQ(st, 200) << body;
    auto v = parse(body);
    ASSERT_TRUE(v.at("success").as_bool()) << body;
    EXPECT_EQ(v.at("data").at("voucherId").as_int64(), voucher);
    state = std::string(v.at("data").at("state").as_string());
    if (state != "persisted") std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(state, "persisted");
  EXPECT_EQ(http_send(a.port(), "GET", status_path, "", {bob}).second,
            R"({"success":false,"errorMsg":"订单不存在"})");

  // The shop's voucher list shows the flash-sale fields.
  auto [ls, lb] = http_get(a.port(), "/voucher/list/2");
  ASSERT_EQ(ls, 200);
  bool listed = false;
  auto list = parse(lb);  // named: a range-for over a temporary's member would dangle
  for (const auto& v : list.at("data").as_array()) {
    if (v.at("id").as_int64() != voucher) continue;
    listed = true;
    EXPECT_EQ(v.at("beginTime").as_string(), "2020-01-01T00:00:00");
    EXPECT_TRUE(v.as_object().contains("stock"));
  }
  EXPECT_TRUE(listed) << lb;
}

// The sale's figures per voucher reach Prometheus as gauges (what the Grafana dashboard's
// voucher panels read): stock left, accepted, queued, persisted, dead letters.
TEST(FlashSaleHttp, EachVouchersFiguresAreGaugesOnMetrics) {
  SurgeServer a;
  TestSessions sessions;
  int64_t voucher = create_sale(a.port(), 3);
  std::string path = "/voucher-order/seckill/" + std::to_string(voucher);
  for (int64_t user : {511, 512}) {
    auto [status, body] = http_send(a.port(), "POST", path, "", {sessions.login(user)});
    ASSERT_EQ(status, 200) << body;
    ASSERT_TRUE(parse(body).at("success").as_bool()) << body;
  }
  auto gauge = [&](const std::string& name) {
    return metric_sample(a.admin_port(), name + "{voucher=\"" + std::to_string(voucher) + "\"}");
  };
  // A scrape waits for figures under a second old, so persisted reaches 2 once the writer has
  // committed both orders. The writer removes an order's queued marker (Redis) after its commit
  // (MariaDB), so a scrape between the two sees it persisted and still queued: wait for both.
  auto until = std::chrono::steady_clock::now() + 10s;
  while ((gauge("surge_sale_voucher_persisted") != 2 || gauge("surge_sale_voucher_queued") != 0) &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(gauge("surge_sale_voucher_persisted"), 2);
  EXPECT_EQ(gauge("surge_sale_voucher_stock"), 1);
  EXPECT_EQ(gauge("surge_sale_voucher_accepted"), 2);
  EXPECT_EQ(gauge("surge_sale_voucher_queued"), 0);
  EXPECT_EQ(gauge("surge_sale_voucher_dead_letters"), 0);
  auto [status, text] = http_get(a.admin_port(), "/metrics");
  EXPECT_NE(text.find("\nsurge_sale_stream_unread{shard=\"0\"} "), std::string::npos) << text;
  EXPECT_NE(text.find("\nsurge_sale_figures_age_seconds "), std::string::npos) << text;
}

TEST(FlashSaleHttp, BadVoucherBodiesAreRejected) {
  SurgeServer a;
  auto check = [&](const std::string& path, const std::string& body, const std::string& msg) {
    auto [s, b] = admin_send(a.port(), "POST", path, body);
    EXPECT_EQ(s, 400) << body << " -> " << b;
    EXPECT_NE(b.find(msg), std::string::npos) << b;
  };
  check("/voucher", "{", "malformed JSON body");
  check("/voucher", R"({"shopId":1})", "invalid field: title");
  check("/voucher", R"({"shopId":-1,"title":"x","payValue":1,"actualValue":2})",
        "invalid field: shopId");
  std::string base = R"({"shopId":1,"title":"x","payValue":1,"actualValue":2,)";
  check("/voucher/seckill",
        base + R"("stock":0,"beginTime":"2020-01-01T00:00:00","endTime":"2037-12-31T00:00:00"})",
        "invalid field: stock");
  check("/voucher/seckill",
        base + R"("stock":5,"beginTime":"yesterday","endTime":"2037-12-31T00:00:00"})",
        "invalid field: beginTime");
  check("/voucher/seckill",
        base + R"("stock":5,"beginTime":"2037-12-31T00:00:00","endTime":"2020-01-01T00:00:00"})",
        "endTime must be after beginTime");
  check("/voucher/seckill",
        base + R"("stock":5,"beginTime":"2020-01-01T00:00:00","endTime":"2099-01-01T00:00:00"})",
        "invalid field: endTime");
  auto ok = admin_send(a.port(), "POST", "/voucher", base.substr(0, base.size() - 1) + "}");
  EXPECT_EQ(ok.first, 200) << ok.second;
}

// Accepts orders on instance a while the voucher's stock row is locked, so a's writer reads them
// and waits inside its transaction; kills a; then the orders must still all reach MariaDB.
void killed_instance_loses_nothing(bool restart_same_name) {
  std::string name = "killed-" + std::to_string(::getpid()) + (restart_same_name ? "-s" : "-o");
  TestSessions sessions;
  int64_t voucher;
  constexpr int kBuyers = 20;
  {
    SurgeServer setup;
    voucher = create_sale(setup.port(), 50);
  }
  db::Connection blocker(stores().db);
  ASSERT_TRUE(blocker.begin());
  db::Params p;
  p.emplace_back(voucher);
  ASSERT_TRUE(
      blocker.query("SELECT stock FROM tb_seckill_voucher WHERE voucher_id = ? FOR UPDATE", p));

  auto a = std::make_unique<SurgeServer>(std::vector<std::string>{"--instance", name});
  for (int i = 0; i < kBuyers; ++i) {
    auto [s, b] = http_send(a->port(), "POST", "/voucher-order/seckill/" + std::to_string(voucher),
                            "", {sessions.login(1000 + i)});
    ASSERT_EQ(s, 200) << b;
    ASSERT_TRUE(parse(b).at("success").as_bool()) << b;
  }
  // Wait until a's writer holds some as pending (read, stuck in its transaction); the rest wait
  // unread in the stream behind them.
  sale::FlashSale sale(4);
  std::string stream = sale.stream_key(sale.shard_of(voucher));
  auto until = std::chrono::steady_clock::now() + 10s;
  int64_t pending = 0;
  while (pending == 0 && std::chrono::steady_clock::now() < until) {
    auto r =
        run_co(sessions.ctx(), sessions.redis().exec(redis::Request::keyed(
                                   1, "XPENDING", stream, "order-writers", "-", "+", 1000, name)));
    pending = r && r->is_array() ? static_cast<int64_t>(r->elements.size()) : 0;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_GT(pending, 0);
  a->child().kill(SIGKILL);
  a->child().wait(5s);
  a.reset();
  // No count check here: another instance of a parallel test may be in the same group and
  // commit some of these orders as soon as the row is free. What matters is the end state.
  ASSERT_TRUE(blocker.rollback());

  // Restarted under its name, the instance must finish its pending entries by reading them
  // back, not by a claim: the default 30 s claim idle is longer than the wait below. Under
  // another name it can only get them by XAUTOCLAIM.
  std::vector<std::string> args{"--instance", name + "-b", "--order-claim-idle", "300"};
  if (restart_same_name) args = {"--instance", name, "--order-claim-idle", "3600000"};
  SurgeServer b(args);
  until = std::chrono::steady_clock::now() + 20s;
  while (orders_of(voucher) < kBuyers && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(orders_of(voucher), kBuyers);
  EXPECT_EQ(db_count("SELECT stock FROM tb_seckill_voucher WHERE voucher_id = ?", voucher),
            50 - kBuyers);
  // Who recovered: under its own name b read its pending entries back (an hour's claim idle
  // rules out a claim); under another name only a claim could get them.
  auto [ms, metrics] = http_get(b.admin_port(), "/metrics");
  ASSERT_EQ(ms, 200);
  if (restart_same_name) {
    EXPECT_EQ(metric(metrics, "surge_order_claimed_total"), 0) << metrics;
  } else {
    EXPECT_GT(metric(metrics, "surge_order_claimed_total"), 0) << metrics;
  }
  EXPECT_EQ(metric(metrics, "surge_order_dead_letters_total"), 0) << metrics;

  std::string log = "/tmp/surge-reconcile-" + name + ".log";
  Child reconcile({SURGE_BINARY, "reconcile", "--voucher", std::to_string(voucher)}, surge_env(),
                  log);
  EXPECT_EQ(reconcile.wait(20s), 0);
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("0 with differences"), std::string::npos) << text.str();
  std::remove(log.c_str());
}

TEST(FlashSaleHttp, KilledInstanceRestartedUnderItsNameLosesNoOrder) {
  killed_instance_loses_nothing(true);
}

TEST(FlashSaleHttp, AnotherInstanceTakesOverAKilledInstancesOrders) {
  killed_instance_loses_nothing(false);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(FlashSaleHttp, ReconcileReportsAndRepairsADifference) {
  TestSessions sessions;
  int64_t voucher;
  {
    SurgeServer a;
    voucher = create_sale(a.port(), 5, /*ended=*/true);
  }
  sale::FlashSale sale(4);
  // A buyer Redis knows of with no order anywhere: an order lost before the fix.
  ASSERT_TRUE(
      run_co(sessions.ctx(), redis::sadd(sessions.redis(), sale.buyers_key(voucher), {"4242"})));
  std::string log = "/tmp/surge-reconcile-diff-" + std::to_string(::getpid()) + ".log";
  std::vector<std::string> argv{SURGE_BINARY, "reconcile", "--voucher", std::to_string(voucher)};
  EXPECT_EQ(Child(argv, surge_env(), log).wait(20s), 1);
  argv.push_back("--repair");
  EXPECT_EQ(Child(argv, surge_env(), log).wait(20s), 0);
  argv.pop_back();
  EXPECT_EQ(Child(argv, surge_env(), log).wait(20s), 0);
  auto member =
      run_co(sessions.ctx(), redis::sismember(sessions.redis(), sale.buyers_key(voucher), "4242"));
  ASSERT_TRUE(member);
  EXPECT_FALSE(*member);
  std::remove(log.c_str());
}

// A repair writes an absolute stock from reads that are not atomic, so during a live sale it
// could hand back a unit just sold: it must refuse while the window is open or orders are queued.
TEST(FlashSaleHttp, ReconcileRepairRefusesWhileTheSaleIsLive) {
  TestSessions sessions;
  int64_t open_sale, queued_sale;
  {
    SurgeServer a;
    open_sale = create_sale(a.port(), 5);
    queued_sale = create_sale(a.port(), 5, /*ended=*/true);
  }
  sale::FlashSale sale(4);
  auto& r = sessions.redis();
  // Both have a lost buyer; the ended one also has an order waiting in its stream's hash (as if
  // accepted just before the end and not yet persisted). Neither may be repaired.
  for (int64_t v : {open_sale, queued_sale}) {
    ASSERT_TRUE(run_co(sessions.ctx(), redis::sadd(r, sale.buyers_key(v), {"4343"})));
  }
  ASSERT_TRUE(
      run_co(sessions.ctx(), redis::hset(r, sale.queued_key(sale.shard_of(queued_sale)),
                                         {{"987654321", "4444:" + std::to_string(queued_sale)}})));
  std::string log = "/tmp/surge-reconcile-live-" + std::to_string(::getpid()) + ".log";
  for (int64_t v : {open_sale, queued_sale}) {
    std::vector<std::string> argv{SURGE_BINARY, "reconcile", "--voucher", std::to_string(v),
                                  "--repair"};
    EXPECT_EQ(Child(argv, surge_env(), log).wait(20s), 1) << read_file(log);
    EXPECT_NE(read_file(log).find("not repaired"), std::string::npos) << read_file(log);
    auto member = run_co(sessions.ctx(), redis::sismember(r, sale.buyers_key(v), "4343"));
    ASSERT_TRUE(member);
    EXPECT_TRUE(*member) << "voucher " << v << " was repaired during its sale";
  }
  ASSERT_TRUE(run_co(sessions.ctx(),
                     sessions.redis().exec(redis::Request::keyed(
                         1, "HDEL", sale.queued_key(sale.shard_of(queued_sale)), "987654321"))));
  std::remove(log.c_str());
}

}  // namespace
}  // namespace surge::test
