// Adopting a database in the original hm-dianping shape: `surge migrate --dry-run` reports the
// duplicate order, `surge serve` refuses the unmigrated database, `surge migrate` brings it to
// the current schema once (a second run changes nothing), and the API then serves it. The
// database lives beside the fixture's (same server, its own name); the API runs against a
// private Redis, so the other suites' caches and sale state are not touched.
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include "db/migrate.h"
#include "db/schema.h"
#include "support/api.h"
#include "support/processes.h"
#include "support/stores.h"

namespace surge {
namespace {

using namespace std::chrono_literals;

constexpr const char* kDatabase = "surge_adopt";
constexpr const char* kFreshDatabase = "surge_fresh";

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct CommandRun {
  int status = -1;
  std::string output;  // stdout and stderr
};

class Adopt : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = test::root_db();
    create_database(kDatabase);
    adopted_ = test::stores().db;
    adopted_.database = kDatabase;
    db::Connection conn(adopted_);
    for (const char* file : {"hmdp_original_schema.sql", "hmdp_original_rows.sql"}) {
      auto text = read_text(std::string(SURGE_SOURCE_DIR) + "/tests/integration/data/" + file);
      ASSERT_FALSE(text.empty()) << file;
      for (const auto& st : db::split_sql(text)) ASSERT_TRUE(conn.simple(st.sql)) << st.sql;
    }
  }

  void TearDown() override {
    db::Connection root(root_);
    (void)root.simple(std::string("DROP DATABASE IF EXISTS ") + kDatabase);
    (void)root.simple(std::string("DROP DATABASE IF EXISTS ") + kFreshDatabase);
  }

  // An empty database that the fixture's account (as an operator's application account) owns.
  void create_database(const std::string& name) {
    db::Connection root(root_);
    ASSERT_TRUE(root.simple("DROP DATABASE IF EXISTS " + name));
    ASSERT_TRUE(root.simple("CREATE DATABASE " + name +
                            " CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"));
    for (const char* host : {"localhost", "127.0.0.1"}) {
      ASSERT_TRUE(root.simple("GRANT ALL PRIVILEGES ON " + name + ".* TO '" +
                              test::stores().db.user + "'@'" + host + "'"));
    }
  }

  // Columns (type, nullability, default) and keys of every table, one line each, sorted.
  std::vector<std::string> shape(const std::string& database) {
    db::Connection root(root_);
    std::vector<std::string> out;
    auto columns = root.query(
        "SELECT CONCAT_WS(' ', TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, "
        "IFNULL(COLUMN_DEFAULT, '-'), EXTRA) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
        "'" +
        database + "' ORDER BY 1");
    auto keys = root.query(
        "SELECT CONCAT_WS(' ', TABLE_NAME, INDEX_NAME, NON_UNIQUE, GROUP_CONCAT(COLUMN_NAME ORDER "
        "BY SEQ_IN_INDEX)) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '" +
        database + "' GROUP BY TABLE_NAME, INDEX_NAME, NON_UNIQUE ORDER BY 1");
    EXPECT_TRUE(columns && keys);
    if (!columns || !keys) return out;
    for (const auto& r : columns->rows) out.push_back(r[0].value_or(""));
    for (const auto& r : keys->rows) out.push_back(r[0].value_or(""));
    return out;
  }

  // The fixture's environment pointed at the adopted database (and at `redis_port`, if set).
  std::vector<std::string> env(uint16_t redis_port = 0, const std::string& database = kDatabase) {
    auto e = test::surge_env();
    for (auto& line : e) {
      if (line.starts_with("SURGE_MYSQL_DATABASE=")) line = "SURGE_MYSQL_DATABASE=" + database;
      if (redis_port && line.starts_with("SURGE_REDIS_PORT=")) {
        line = "SURGE_REDIS_PORT=" + std::to_string(redis_port);
      }
    }
    return e;
  }

  CommandRun surge(std::vector<std::string> args, const std::string& database = kDatabase) {
    char path[] = "/tmp/surge-migrate-test-XXXXXX";
    int fd = ::mkstemp(path);
    ::close(fd);
    args.insert(args.begin(), SURGE_BINARY);
    CommandRun r;
    {
      test::Child child(args, env(0, database), path);
      r.status = child.wait(120s);
    }
    r.output = read_text(path);
    ::unlink(path);
    return r;
  }

  int64_t count(const std::string& sql) {
    db::Connection conn(adopted_);
    auto rows = conn.query(sql);
    if (!rows || rows->empty()) return -1;
    return db::to_int64(rows->rows[0][0]).value_or(-1);
  }

  void remove_duplicates() {
    db::Connection conn(adopted_);
    // What the report suggests: keep the row with the lowest id of each group.
    ASSERT_TRUE(conn.simple(
        "DELETE d FROM tb_voucher_order d JOIN tb_voucher_order k ON k.user_id = d.user_id AND "
        "k.voucher_id = d.voucher_id AND k.id < d.id"));
    ASSERT_TRUE(
        conn.simple("DELETE d FROM tb_follow d JOIN tb_follow k ON k.user_id = d.user_id AND "
                    "k.follow_user_id = d.follow_user_id AND k.id < d.id"));
  }

  db::Options root_;
  db::Options adopted_;
};

TEST_F(Adopt, DryRunReportsTheDuplicateOrderAndFollowAndChangesNothing) {
  auto r = surge({"migrate", "--dry-run"});
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_NE(r.output.find("cannot add unique key uk_order_user_voucher on tb_voucher_order "
                          "(user_id, voucher_id)"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("user_id=2, voucher_id=2: 2 rows (id 270002, 270003)"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("user_id=1, follow_user_id=2: 2 rows (id 1, 2)"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("DELETE d FROM tb_voucher_order d JOIN"), std::string::npos);
  EXPECT_EQ(count("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                  "DATABASE() AND TABLE_NAME = 'schema_version'"),
            0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = "
                  "DATABASE() AND INDEX_NAME LIKE 'uk\\_%'"),
            0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM tb_voucher_order"), 3);
}

TEST_F(Adopt, MigrateStopsBeforeItsFirstChangeWhileDuplicatesRemain) {
  auto r = surge({"migrate"});
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_NE(r.output.find("nothing was changed"), std::string::npos) << r.output;
  EXPECT_EQ(count("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                  "DATABASE() AND TABLE_NAME = 'schema_version'"),
            0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = "
                  "DATABASE() AND INDEX_NAME LIKE 'idx\\_%'"),
            0);
}

TEST_F(Adopt, ServeRefusesTheUnmigratedDatabaseNamingTheMissingKeys) {
  auto r = surge({"serve", "--port", std::to_string(test::free_port()), "--workers", "1"});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("missing unique key tb_voucher_order (user_id, voucher_id)"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("missing unique key tb_follow (user_id, follow_user_id)"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("schema version of database 'surge_adopt' is none"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("refusing to start"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("surge migrate"), std::string::npos) << r.output;
}

TEST_F(Adopt, ServeStartsDegradedOnlyWhenAskedAndSaysWhatIsNotGuaranteed) {
  test::RedisServer redis;
  char path[] = "/tmp/surge-migrate-degraded-XXXXXX";
  ::close(::mkstemp(path));
  uint16_t port = test::free_port();
  {
    test::Child child({SURGE_BINARY, "serve", "--port", std::to_string(port), "--workers", "1",
                       "--allow-degraded-schema"},
                      env(redis.port()), path);
    bool healthy = false;
    for (int i = 0; i < 500 && !healthy && child.running(); ++i) {
      healthy = test::http_get(port, "/health").first == 200;
      if (!healthy) std::this_thread::sleep_for(20ms);
    }
    EXPECT_TRUE(healthy);
  }
  std::string log = read_text(path);
  ::unlink(path);
  EXPECT_NE(log.find("DEGRADED (--allow-degraded-schema): missing unique key tb_voucher_order "
                     "(user_id, voucher_id)"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("the guarantees above do NOT hold"), std::string::npos) << log;
}

TEST_F(Adopt, AfterRemovingTheDuplicatesMigrateSucceedsOnceAndASecondRunChangesNothing) {
  remove_duplicates();
  auto first = surge({"migrate"});
  ASSERT_EQ(first.status, 0) << first.output;
  const int latest = db::latest_version(db::bundled_migrations());
  EXPECT_NE(first.output.find(fmt::format("{0} migrations applied, now at version {0}", latest)),
            std::string::npos)
      << first.output;
  EXPECT_NE(first.output.find("added unique key uk_order_user_voucher"), std::string::npos);
  EXPECT_NE(first.output.find("skip  table tb_user: exists"), std::string::npos);

  db::Connection conn(adopted_);
  auto check = db::check_schema(conn);
  ASSERT_TRUE(check);
  EXPECT_EQ(check->version, latest);
  EXPECT_EQ(check->expected, latest);
  EXPECT_TRUE(check->missing_keys.empty());
  EXPECT_TRUE(check->missing_indexes.empty());
  EXPECT_TRUE(check->guaranteed());
  // ZEROFILL is gone; the values are not.
  auto type = conn.query(
      "SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND "
      "TABLE_NAME = 'tb_shop' AND COLUMN_NAME = 'sold'");
  ASSERT_TRUE(type);
  ASSERT_EQ(type->size(), 1u);
  EXPECT_EQ(type->rows[0][0].value_or(""), "int(10) unsigned");
  EXPECT_EQ(count("SELECT sold FROM tb_shop WHERE id = 1"), 4215);
  // The rows the original held are all still there (less the two duplicates).
  EXPECT_EQ(count("SELECT COUNT(*) FROM tb_voucher_order"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM tb_follow"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM tb_user"), 4);

  auto applied_at = [&] {
    auto rows = conn.query("SELECT GROUP_CONCAT(version, '@', applied_at) FROM schema_version");
    return rows && !rows->empty() ? rows->rows[0][0].value_or("") : std::string();
  };
  std::string before = applied_at();
  auto second = surge({"migrate"});
  EXPECT_EQ(second.status, 0) << second.output;
  EXPECT_NE(second.output.find(fmt::format("version {0}, 0 of {0} migrations pending", latest)),
            std::string::npos)
      << second.output;
  EXPECT_NE(second.output.find("up to date; nothing changed"), std::string::npos);
  EXPECT_EQ(count("SELECT COUNT(*) FROM schema_version"), latest);
  EXPECT_EQ(applied_at(), before);
  auto dry = surge({"migrate", "--dry-run"});
  EXPECT_EQ(dry.status, 0) << dry.output;
  EXPECT_NE(dry.output.find("up to date"), std::string::npos);
}

TEST_F(Adopt, TheApiServesTheMigratedDatabaseAndItsKeysHold) {
  remove_duplicates();
  ASSERT_EQ(surge({"migrate"}).status, 0);
  test::RedisServer redis;
  test::SurgeServer server(test::api_flags(), env(redis.port()));
  uint16_t port = server.port();

  auto shop = test::api(port, "GET", "/shop/1");
  ASSERT_EQ(shop.status, 200) << shop.body;
  EXPECT_EQ(shop.json().at("data").at("name").as_string(), "湖畔小馆");
  EXPECT_EQ(shop.json().at("data").at("sold").to_number<int64_t>(), 4215);
  EXPECT_EQ(test::api(port, "GET", "/shop-type/list").json().at("data").as_array().size(), 3u);
  auto near = test::api(port, "GET", "/shop/of/type?typeId=1&current=1&x=120.149993&y=30.334229");
  ASSERT_EQ(near.status, 200) << near.body;
  EXPECT_EQ(near.json().at("data").as_array().size(), 2u) << near.body;
  auto vouchers = test::api(port, "GET", "/voucher/list/1");
  ASSERT_EQ(vouchers.json().at("data").as_array().size(), 2u) << vouchers.body;
  EXPECT_EQ(vouchers.json().at("data").at(1).at("stock").to_number<int64_t>(), 98);
  EXPECT_EQ(
      test::api(port, "GET", "/blog/hot").json().at("data").at(0).at("id").to_number<int64_t>(), 4);

  // User 2 of the original bought voucher 2 there: the sale knows it and refuses a second one.
  std::string old_user = test::login(port, "13838411438");
  ASSERT_FALSE(old_user.empty());
  EXPECT_EQ(test::my_id(port, old_user), 2);
  auto again = test::api(port, "POST", "/voucher-order/seckill/2", old_user);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_FALSE(again.success()) << again.body;

  // A new user buys one (stored by the order writer) and cannot buy a second.
  std::string fresh = test::login(port, test::unique_phone());
  ASSERT_FALSE(fresh.empty());
  auto bought = test::api(port, "POST", "/voucher-order/seckill/2", fresh);
  ASSERT_TRUE(bought.success()) << bought.body;
  EXPECT_FALSE(test::api(port, "POST", "/voucher-order/seckill/2", fresh).success());
  int64_t orders = 0;
  for (int i = 0; i < 1000 && orders != 3; ++i) {
    orders = count("SELECT COUNT(*) FROM tb_voucher_order WHERE voucher_id = 2");
    if (orders != 3) std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(orders, 3);
  EXPECT_EQ(count("SELECT stock FROM tb_seckill_voucher WHERE voucher_id = 2"), 97);

  // Following twice stores one row: the pair is unique now.
  auto follow = test::api(port, "PUT", "/follow/2/true", fresh);
  ASSERT_TRUE(follow.success()) << follow.body;
  (void)test::api(port, "PUT", "/follow/2/true", fresh);
  auto me = test::my_id(port, fresh);
  EXPECT_EQ(count("SELECT COUNT(*) FROM tb_follow WHERE follow_user_id = 2 AND user_id = " +
                  std::to_string(me)),
            1);
  auto followed = test::api(port, "GET", "/follow/or/not/2", fresh);
  EXPECT_TRUE(followed.json().at("data").as_bool()) << followed.body;
}

TEST_F(Adopt, AnAdoptedAndAnEmptyDatabaseEndWithTheSameColumnsAndKeys) {
  remove_duplicates();
  ASSERT_EQ(surge({"migrate"}).status, 0);
  create_database(kFreshDatabase);
  auto fresh = surge({"migrate"}, kFreshDatabase);
  ASSERT_EQ(fresh.status, 0) << fresh.output;
  const int latest = db::latest_version(db::bundled_migrations());
  EXPECT_NE(fresh.output.find(fmt::format("version none, {0} of {0} migrations pending", latest)),
            std::string::npos)
      << fresh.output;
  auto adopted_shape = shape(kDatabase);
  auto fresh_shape = shape(kFreshDatabase);
  EXPECT_GT(fresh_shape.size(), 100u);
  EXPECT_EQ(adopted_shape, fresh_shape);
  auto again = surge({"migrate"}, kFreshDatabase);
  EXPECT_NE(again.output.find("up to date; nothing changed"), std::string::npos) << again.output;
}

TEST(SeededFixture, IsAtTheCurrentVersionWithEveryKey) {
  // The fixture's database was recreated in the original's shape and went through `surge seed`
  // (tests/support/seed-adopted), which migrated it.
  db::Connection conn(test::stores().db);
  auto check = db::check_schema(conn);
  ASSERT_TRUE(check);
  EXPECT_EQ(check->version, db::latest_version(db::bundled_migrations()));
  EXPECT_TRUE(check->missing_keys.empty());
  EXPECT_TRUE(check->missing_indexes.empty());
}

}  // namespace
}  // namespace surge
