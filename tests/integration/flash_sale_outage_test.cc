// MariaDB stopped in the middle of a sale: the sale goes on in Redis, the order writer holds what
// it read and retries, and once MariaDB is back every accepted order is persisted. Runs against
// its own Redis + MariaDB (scripts/services in a temp dir), since it stops the database.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include "db/connection.h"
#include "social/sessions.h"
#include "support/drive.h"
#include "support/processes.h"

namespace surge::test {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> read_env(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (line.find('=') != std::string::npos) out.push_back(line);
  }
  return out;
}

std::string value_of(const std::vector<std::string>& env, const std::string& key) {
  for (const auto& e : env) {
    if (e.starts_with(key + "=")) return e.substr(key.size() + 1);
  }
  return "";
}

int run(const std::vector<std::string>& argv, const std::vector<std::string>& env = {}) {
  Child c(argv, env, "/dev/null");
  return c.wait(120s);
}

class Outage : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/surge-outage-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    std::string services = std::string(SURGE_SOURCE_DIR) + "/scripts/services";
    ASSERT_EQ(run({services, "start", "--dir", dir_, "--redis-port", "0", "--mysql-port", "0",
                   "--quiet"}),
              0);
    env_ = read_env(dir_ + "/surge.env");
    env_.push_back("SURGE_LOG_LEVEL=warn");
    ASSERT_EQ(run({SURGE_BINARY, "seed", "--scale", "0.001"}, env_), 0);
  }
  void TearDown() override {
    run({std::string(SURGE_SOURCE_DIR) + "/scripts/services", "stop", "--dir", dir_, "--quiet"});
    run({"rm", "-rf", dir_});
  }
  db::Options db() {
    db::Options o;
    o.socket = value_of(env_, "SURGE_MYSQL_SOCKET");
    o.user = value_of(env_, "SURGE_MYSQL_USER");
    o.password = value_of(env_, "SURGE_MYSQL_PASSWORD");
    o.database = value_of(env_, "SURGE_MYSQL_DATABASE");
    return o;
  }
  int64_t orders_of(int64_t voucher) {
    db::Options o = db();
    db::Connection c(o);
    db::Params p;
    p.emplace_back(voucher);
    auto rows = c.query("SELECT COUNT(*) FROM tb_voucher_order WHERE voucher_id = ?", p);
    return rows && !rows->empty() ? db::to_int64(rows->rows[0][0]).value_or(-1) : -1;
  }

  std::string dir_;
  std::vector<std::string> env_;
};

TEST_F(Outage, SaleGoesOnWhileMariaDbIsDownAndEveryOrderLandsAfterwards) {
  SurgeServer surge({}, env_);
  auto [cs, cb] =
      http_send(surge.port(), "POST", "/voucher/seckill",
                R"({"shopId":1,"title":"停机抢购","payValue":100,"actualValue":200,"stock":100,)"
                R"("beginTime":"2020-01-01T00:00:00","endTime":"2037-12-31T00:00:00"})");
  ASSERT_EQ(cs, 200) << cb;
  int64_t voucher = boost::json::parse(cb).at("data").as_int64();

  // Sessions for 30 buyers, straight into this test's Redis.
  boost::asio::io_context ctx;
  redis::Options ro;
  ro.port = static_cast<uint16_t>(std::stoi(value_of(env_, "SURGE_REDIS_PORT")));
  auto conn = redis::Connection::create(ctx.get_executor(), ro);
  conn->start();
  ASSERT_TRUE(run_co(ctx, conn->wait_ready(3s)));
  std::vector<std::string> tokens;
  for (int i = 0; i < 30; ++i) {
    auto t = run_co(ctx, social::Sessions(10min).open(*conn, {100 + i, "u", ""}));
    ASSERT_TRUE(t);
    tokens.push_back("authorization: " + *t);
  }

  // Stop MariaDB (SIGTERM, as an operator or a crash-restart would).
  std::ifstream pidfile(dir_ + "/run/mariadb.pid");
  pid_t mysqld = 0;
  pidfile >> mysqld;
  ASSERT_GT(mysqld, 0);
  ASSERT_EQ(::kill(mysqld, SIGTERM), 0);
  for (int i = 0; i < 300 && ::kill(mysqld, 0) == 0; ++i) std::this_thread::sleep_for(100ms);
  ASSERT_NE(::kill(mysqld, 0), 0) << "mariadbd did not stop";

  std::string path = "/voucher-order/seckill/" + std::to_string(voucher);
  for (const auto& t : tokens) {
    auto [s, b] = http_send(surge.port(), "POST", path, "", {t});
    ASSERT_EQ(s, 200) << b;
    EXPECT_TRUE(boost::json::parse(b).at("success").as_bool()) << b;
  }
  EXPECT_EQ(http_get(surge.port(), "/health").first, 503) << "health must say MariaDB is down";
  std::this_thread::sleep_for(1s);  // the writer meets the outage and holds its batch

  ASSERT_EQ(
      run({std::string(SURGE_SOURCE_DIR) + "/scripts/services", "start", "--dir", dir_, "--quiet"}),
      0);
  auto until = std::chrono::steady_clock::now() + 30s;
  while (orders_of(voucher) != 30 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(orders_of(voucher), 30);
  auto [ms, metrics] = http_get(surge.port(), "/metrics");
  EXPECT_NE(metrics.find("surge_orders_persisted_total 30"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("surge_order_dead_letters_total 0"), std::string::npos);
  conn->stop();
  drive_for(ctx, 20ms);
}

}  // namespace
}  // namespace surge::test
