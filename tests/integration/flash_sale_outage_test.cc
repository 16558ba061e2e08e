// Stores failing under a running sale, against a Redis + MariaDB of the test's own
// (scripts/services in a temp dir), since the tests stop, kill and lock them: MariaDB stopped
// (the sale goes on in Redis, every accepted order lands afterwards), Redis killed with SIGKILL
// and restarted (503 while down, service back, every acknowledged order persisted), and the
// public pool blocked (the order writer's own connections keep persisting).
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <mutex>
#include <set>
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
    env_.push_back("SURGE_SALE_RATE=0");  // every buyer here comes from loopback
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

  // These stores' own administrator credential (their env file's).
  std::string admin_header() const {
    return "authorization: " + value_of(env_, "SURGE_ADMIN_TOKEN");
  }

  // POST /voucher/seckill with `stock`; returns the new voucher id.
  int64_t create_voucher(uint16_t port, int stock) {
    auto [cs, cb] =
        http_send(port, "POST", "/voucher/seckill",
                  R"({"shopId":1,"title":"故障抢购","payValue":100,"actualValue":200,"stock":)" +
                      std::to_string(stock) +
                      R"(,"beginTime":"2020-01-01T00:00:00","endTime":"2037-12-31T00:00:00"})",
                  {admin_header()});
    EXPECT_EQ(cs, 200) << cb;
    return cs == 200 ? boost::json::parse(cb).at("data").as_int64() : 0;
  }
  // Sessions for users first..first+n-1 stored straight into this test's Redis; returns the
  // authorization header lines.
  std::vector<std::string> sessions(int64_t first, int n) {
    boost::asio::io_context ctx;
    redis::Options ro;
    ro.port = redis_port();
    auto conn = redis::NodeClient::create(ctx.get_executor(), ro);
    conn->start();
    std::vector<std::string> out;
    if (!run_co(ctx, conn->wait_ready(3s))) {
      ADD_FAILURE() << "redis not ready";
      return out;
    }
    social::Sessions sessions(10min);
    redis::NodeClient client(*conn);
    for (int i = 0; i < n; ++i) {
      auto t = run_co(ctx, sessions.open(client, core::LoggedInUser{first + i, "u", ""}));
      EXPECT_TRUE(t);
      if (t) out.push_back("authorization: " + *t);
    }
    conn->stop();
    drive_for(ctx, 20ms);
    return out;
  }
  uint16_t redis_port() {
    return static_cast<uint16_t>(
        std::stoi(value_of(read_env(dir_ + "/surge.env"), "SURGE_REDIS_PORT")));
  }
  std::set<int64_t> order_users(int64_t voucher) {
    db::Options o = db();
    db::Connection c(o);
    db::Params p;
    p.emplace_back(voucher);
    auto rows = c.query("SELECT user_id FROM tb_voucher_order WHERE voucher_id = ?", p);
    std::set<int64_t> out;
    if (rows) {
      for (auto& r : rows->rows) out.insert(db::to_int64(r[0]).value_or(-1));
    }
    return out;
  }
  pid_t pid_in(const std::string& file) {
    std::ifstream in(dir_ + "/run/" + file);
    pid_t pid = 0;
    in >> pid;
    return pid;
  }

  std::string dir_;
  std::vector<std::string> env_;
};

TEST_F(Outage, SaleGoesOnWhileMariaDbIsDownAndEveryOrderLandsAfterwards) {
  SurgeServer surge({}, env_);
  auto [cs, cb] =
      http_send(surge.port(), "POST", "/voucher/seckill",
                R"({"shopId":1,"title":"停机抢购","payValue":100,"actualValue":200,"stock":100,)"
                R"("beginTime":"2020-01-01T00:00:00","endTime":"2037-12-31T00:00:00"})",
                {admin_header()});
  ASSERT_EQ(cs, 200) << cb;
  int64_t voucher = boost::json::parse(cb).at("data").as_int64();

  // Sessions for 30 buyers, straight into this test's Redis.
  boost::asio::io_context ctx;
  redis::Options ro;
  ro.port = static_cast<uint16_t>(std::stoi(value_of(env_, "SURGE_REDIS_PORT")));
  auto conn = redis::NodeClient::create(ctx.get_executor(), ro);
  conn->start();
  ASSERT_TRUE(run_co(ctx, conn->wait_ready(3s)));
  std::vector<std::string> tokens;
  redis::NodeClient client(*conn);
  for (int i = 0; i < 30; ++i) {
    auto t = run_co(ctx, social::Sessions(10min).open(client, {100 + i, "u", ""}));
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
  // The writer meets the outage and holds its batch: wait until it has retried a commit, so the
  // restart below is really one it must survive.
  auto retried = std::chrono::steady_clock::now() + 60s;
  while (metric(http_get(surge.admin_port(), "/metrics").second,
                "surge_order_commit_retries_total") < 1 &&
         std::chrono::steady_clock::now() < retried) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_GE(
      metric(http_get(surge.admin_port(), "/metrics").second, "surge_order_commit_retries_total"),
      1)
      << "the order writer never retried against the stopped MariaDB";

  ASSERT_EQ(
      run({std::string(SURGE_SOURCE_DIR) + "/scripts/services", "start", "--dir", dir_, "--quiet"}),
      0);
  auto until = std::chrono::steady_clock::now() + 30s;
  while (orders_of(voucher) != 30 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(orders_of(voucher), 30);
  auto [ms, metrics] = http_get(surge.admin_port(), "/metrics");
  EXPECT_EQ(metric(metrics, "surge_orders_persisted_total"), 30) << metrics;
  EXPECT_EQ(metric(metrics, "surge_order_dead_letters_total"), 0) << metrics;
  conn->stop();
  drive_for(ctx, 20ms);
}

// Redis killed with SIGKILL in the middle of a sale and a read load, then restarted by
// `scripts/services start --dir` (AOF on, same port: the server's connections must find it where
// it was). While it is down, answers are 503 with a message, never a crash or a 500; once it
// answers again the sale goes on; every order acknowledged to a buyer is in MariaDB at the end.
TEST_F(Outage, RedisKilledDuringASaleAndReadsComesBackWithEveryAcknowledgedOrder) {
  SurgeServer surge({}, env_);
  const uint16_t port = surge.port();
  const std::string redis_port_before = value_of(read_env(dir_ + "/surge.env"), "SURGE_REDIS_PORT");
  int64_t voucher = create_voucher(port, 1000);
  ASSERT_GT(voucher, 0);
  constexpr int kBuyers = 120;
  auto tokens = sessions(1000, kBuyers);
  ASSERT_EQ(tokens.size(), static_cast<size_t>(kBuyers));

  std::mutex mu;
  std::set<int64_t> acknowledged;
  std::atomic<int> answered{0}, unavailable{0}, unavailable_without_message{0}, bad{0};
  std::atomic<bool> stop_reads{false}, killed{false};
  std::atomic<int> buyers_refused{0};
  std::string bad_example;
  auto note_bad = [&](int status, const std::string& body) {
    ++bad;
    std::lock_guard lock(mu);
    if (bad_example.empty()) bad_example = std::to_string(status) + " " + body;
  };
  auto on_503 = [&](const std::string& body) {
    ++unavailable;
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object() || !v.as_object().contains("errorMsg") ||
        v.at("errorMsg").as_string().empty()) {
      ++unavailable_without_message;
    }
  };
  const std::string path = "/voucher-order/seckill/" + std::to_string(voucher);
  // Buyers: each keeps trying until the sale answers (success, or "already ordered" when an
  // earlier attempt went through but its answer was lost with Redis).
  std::thread buyers([&] {
    for (int i = 0; i < kBuyers; ++i) {
      // A quarter of the buyers are served before the kill, the rest meet the outage.
      for (int w = 0; i == kBuyers / 4 && !killed && w < 60000; ++w) {
        std::this_thread::sleep_for(1ms);
      }
      for (int attempt = 0; attempt < 2000; ++attempt) {
        auto [st, body] = http_send(port, "POST", path, "", {tokens[i]});
        if (st == 200) {
          ++answered;
          boost::system::error_code ec;
          auto v = boost::json::parse(body, ec);
          if (!ec && v.is_object() && v.at("success").as_bool()) {
            std::lock_guard lock(mu);
            acknowledged.insert(1000 + i);
          }
          break;
        }
        if (st == 503) {
          on_503(body);
          ++buyers_refused;
        } else {
          note_bad(st, body);
        }
        std::this_thread::sleep_for(10ms);
      }
    }
  });
  std::atomic<int> reads_ok{0};
  std::thread readers([&] {
    for (int i = 0; !stop_reads; ++i) {
      auto [st, body] = http_get(port, i % 2 ? "/shop/1" : "/shop-type/list");
      if (st == 200) {
        ++reads_ok;
      } else if (st == 503) {
        on_503(body);
      } else {
        note_bad(st, body);
      }
    }
  });

  auto wait_for = [](auto pred, std::chrono::seconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(5ms);
    return pred();
  };
  ASSERT_TRUE(wait_for([&] { return answered.load() >= kBuyers / 4; }, 60s));
  pid_t redis = pid_in("redis.pid");
  ASSERT_GT(redis, 0);
  ASSERT_EQ(::kill(redis, SIGKILL), 0);
  killed = true;
  // While Redis is down the sale answers 503 (with a message), and the server stays up.
  EXPECT_TRUE(wait_for([&] { return buyers_refused.load() >= 5; }, 60s));
  EXPECT_TRUE(surge.child().running());
  int answered_before_restart = answered.load();
  EXPECT_EQ(answered_before_restart, kBuyers / 4);
  ASSERT_EQ(
      run({std::string(SURGE_SOURCE_DIR) + "/scripts/services", "start", "--dir", dir_, "--quiet"}),
      0);
  EXPECT_EQ(value_of(read_env(dir_ + "/surge.env"), "SURGE_REDIS_PORT"), redis_port_before)
      << "a restart must reuse the port this dir had";
  buyers.join();
  stop_reads = true;
  readers.join();
  EXPECT_TRUE(surge.child().running());
  EXPECT_EQ(answered.load(), kBuyers) << "the sale did not come back after Redis did";
  EXPECT_GT(answered.load(), answered_before_restart);
  EXPECT_GT(reads_ok.load(), 0);
  EXPECT_EQ(bad.load(), 0) << bad_example;
  EXPECT_EQ(unavailable_without_message.load(), 0);

  // Every acknowledged order lands (later ones too: the writer reconnects and reads on).
  std::set<int64_t> want;
  {
    std::lock_guard lock(mu);
    want = acknowledged;
  }
  EXPECT_GE(want.size(), static_cast<size_t>(kBuyers) - 10);
  auto has_all = [&] {
    auto got = order_users(voucher);
    for (int64_t u : want) {
      if (!got.count(u)) return false;
    }
    return true;
  };
  EXPECT_TRUE(wait_for(has_all, 60s))
      << want.size() << " acknowledged, " << order_users(voucher).size() << " persisted";
  EXPECT_LE(order_users(voucher).size(), static_cast<size_t>(kBuyers));
}

// The order writer has connections of its own: with every public connection stuck behind a table
// lock, paid-for orders are still persisted.
TEST_F(Outage, OrdersLandWhileEveryPublicConnectionIsBusy) {
  SurgeServer surge({"--db-pool", "2", "--order-writer-pool", "1", "--db-queue-timeout", "120000"},
                    env_);
  const uint16_t port = surge.port();
  int64_t voucher = create_voucher(port, 100);
  ASSERT_GT(voucher, 0);
  auto tokens = sessions(2000, 20);

  db::Options root = db();
  root.user = "root";
  root.password = "";
  db::Connection locker(root);
  ASSERT_TRUE(locker.simple("LOCK TABLES tb_shop WRITE"));
  // Uncached public reads that need tb_shop: they take both public connections and wait (the
  // clients may give up meanwhile; what matters is the server's connections, counted below).
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&, i] { http_get(port, "/shop/of/name?name=zz" + std::to_string(i)); });
  }
  db::Connection watcher(root);
  auto waiting = [&] {
    auto r = watcher.query(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE STATE LIKE '%metadata lock%'");
    return r && !r->empty() ? db::to_int64(r->rows[0][0]).value_or(0) : 0;
  };
  auto until = std::chrono::steady_clock::now() + 30s;
  while (waiting() < 2 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(10ms);
  ASSERT_EQ(waiting(), 2) << "both public connections should be waiting for the lock";

  const std::string path = "/voucher-order/seckill/" + std::to_string(voucher);
  for (const auto& t : tokens) {
    auto [st, body] = http_send(port, "POST", path, "", {t});
    ASSERT_EQ(st, 200) << body;
    EXPECT_TRUE(boost::json::parse(body).at("success").as_bool()) << body;
  }
  until = std::chrono::steady_clock::now() + 30s;
  while (orders_of(voucher) != 20 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(orders_of(voucher), 20);
  EXPECT_EQ(waiting(), 2) << "the public connections were meant to be blocked throughout";
  ASSERT_TRUE(locker.simple("UNLOCK TABLES"));
  for (auto& t : readers) t.join();
  // Once the lock is gone the public pool serves again.
  EXPECT_EQ(http_get(port, "/shop/of/name?name=zz").first, 200);
}

}  // namespace
}  // namespace surge::test
