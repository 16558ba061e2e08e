// GET /shop/of/type (geo and paged), /shop/of/name and /shop-type/list on a real surge process
// with the fixture's seeded shops.
#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include "db/connection.h"
#include "support/processes.h"
#include "support/stores.h"

namespace surge::test {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

json::array data_of(uint16_t port, const std::string& path) {
  auto [status, body] = http_get(port, path);
  EXPECT_EQ(status, 200) << path << " -> " << body;
  auto v = json::parse(body);
  EXPECT_TRUE(v.at("success").as_bool()) << body;
  return v.at("data").as_array();
}

class ShopQueries : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new SurgeServer();
    // The geo index loads in the background after start-up.
    for (int i = 0; i < 250; ++i) {
      for (int type = 1; type <= 10; ++type) {
        if (!data_of(server_->port(), near(type, 1)).empty()) return;
      }
      std::this_thread::sleep_for(20ms);
    }
  }
  static void TearDownTestSuite() { delete server_; }
  static std::string near(int type, int page) {
    return "/shop/of/type?typeId=" + std::to_string(type) + "&current=" + std::to_string(page) +
           "&x=120.2&y=30.3";
  }
  uint16_t port() const { return server_->port(); }
  uint16_t admin_port() const { return server_->admin_port(); }
  static SurgeServer* server_;
};
SurgeServer* ShopQueries::server_ = nullptr;

// (id, metres from (x, y)) of every shop of `type`, nearest first, as MariaDB computes it.
std::vector<std::pair<int64_t, double>> distances_in_db(int64_t type, double x = 120.2,
                                                        double y = 30.3) {
  db::Connection c(stores().db);
  db::Params p;
  p.emplace_back(x);
  p.emplace_back(y);
  p.emplace_back(type);
  auto rows = c.query(
      "SELECT id, ST_Distance_Sphere(POINT(x, y), POINT(?, ?)) AS d FROM tb_shop "
      "WHERE type_id = ? ORDER BY d, id",
      p);
  EXPECT_TRUE(rows);
  std::vector<std::pair<int64_t, double>> out;
  if (!rows) return out;
  for (const auto& r : rows->rows) {
    out.emplace_back(db::to_int64(r[0]).value_or(0), std::stod(r[1].value_or("0")));
  }
  return out;
}

TEST_F(ShopQueries, NearbyShopsAreNearestFirstWithinFiveKilometres) {
  std::set<int64_t> seen;
  std::map<int, std::set<int64_t>> seen_of;
  std::map<int, int64_t> first_of;
  double last = 0;
  size_t previous = 5;
  for (int type = 1; type <= 10; ++type) {
    last = 0;
    previous = 5;
    for (int page = 1;; ++page) {
      auto shops = data_of(port(), near(type, page));
      if (shops.empty()) break;
      EXPECT_EQ(previous, 5u) << "only the last page may be short";
      previous = shops.size();
      ASSERT_LE(shops.size(), 5u);
      for (const auto& s : shops) {
        const auto& o = s.as_object();
        EXPECT_EQ(o.at("typeId").as_int64(), type);
        double d = o.at("distance").to_number<double>();
        EXPECT_GE(d, last);
        EXPECT_LE(d, 5000.0);
        last = d;
        EXPECT_TRUE(seen.insert(o.at("id").as_int64()).second) << "a shop repeated";
        seen_of[type].insert(o.at("id").as_int64());
        if (page == 1 && !first_of.contains(type)) first_of[type] = o.at("id").as_int64();
      }
    }
  }
  // The small test data set (501 shops over ~1,500 km²) still has some within 5 km.
  EXPECT_GE(seen.size(), 5u);
  // Exactly the shops MariaDB puts within 5 km (ST_Distance_Sphere), page 1 starting with the
  // nearest. Redis and MariaDB use slightly different earth radii: shops within 10 m of the
  // edge may fall either way.
  for (int type = 1; type <= 10; ++type) {
    auto expected = distances_in_db(type);
    for (const auto& [id, d] : expected) {
      if (d < 4990) {
        EXPECT_TRUE(seen_of[type].contains(id)) << "type " << type << " shop " << id;
      }
      if (d > 5010) {
        EXPECT_FALSE(seen_of[type].contains(id)) << "type " << type << " shop " << id;
      }
    }
    if (!expected.empty() && expected.front().second < 4990 &&
        (expected.size() < 2 || expected[1].second - expected.front().second > 1)) {
      EXPECT_EQ(first_of[type], expected.front().first) << "type " << type;
    }
  }
  EXPECT_TRUE(data_of(port(), near(1, 500)).empty());  // past the end: empty, not an error
}

// Every page of /shop/of/type around (x, y) for `type`, as (id, distance) in the route's order.
std::vector<std::pair<int64_t, double>> nearby_pages(uint16_t port, int64_t type, double x,
                                                     double y) {
  std::vector<std::pair<int64_t, double>> out;
  for (int page = 1; page < 1000; ++page) {
    auto shops = data_of(port, "/shop/of/type?typeId=" + std::to_string(type) +
                                   "&current=" + std::to_string(page) + "&x=" + std::to_string(x) +
                                   "&y=" + std::to_string(y));
    if (shops.empty()) break;
    for (const auto& s : shops) {
      out.emplace_back(s.at("id").as_int64(), s.at("distance").to_number<double>());
    }
  }
  return out;
}

// Around each type's first shop (so page 1 must start with it, ~0 m away), the route's list is
// the set MariaDB's ST_Distance_Sphere puts within the route's 5 km, nearest first, with the
// same distances: Redis's earth radius differs from MariaDB's by ~0.03%, hence the tolerance,
// and shops within 10 m of the edge may fall either way.
TEST_F(ShopQueries, NearbyMatchesMariaDbAroundEachTypesFirstShop) {
  constexpr double kRadius = 5000;  // the route's radius (shop_routes.cc)
  db::Connection c(stores().db);
  auto firsts = c.query(
      "SELECT s.type_id, s.id, s.x, s.y FROM tb_shop s JOIN (SELECT type_id, MIN(id) AS id FROM "
      "tb_shop GROUP BY type_id) f ON s.id = f.id ORDER BY s.type_id");
  ASSERT_TRUE(firsts);
  ASSERT_GE(firsts->rows.size(), 5u);
  size_t compared = 0;
  for (const auto& r : firsts->rows) {
    int64_t type = db::to_int64(r[0]).value_or(0);
    int64_t first = db::to_int64(r[1]).value_or(0);
    double x = std::stod(r[2].value_or("0"));
    double y = std::stod(r[3].value_or("0"));
    auto in_db = distances_in_db(type, x, y);
    ASSERT_FALSE(in_db.empty()) << "type " << type;
    std::map<int64_t, double> expected(in_db.begin(), in_db.end());
    // The route's x/y go through std::to_string (6 decimals): the first shop stays within 1 m.
    auto got = nearby_pages(port(), type, x, y);
    ASSERT_FALSE(got.empty()) << "type " << type;
    EXPECT_EQ(got.front().first, first) << "type " << type << ": page 1 starts with the nearest";
    EXPECT_LT(got.front().second, 1.0) << "type " << type;
    std::set<int64_t> listed;
    double last = 0;
    for (const auto& [id, d] : got) {
      EXPECT_TRUE(listed.insert(id).second) << "type " << type << " shop " << id << " repeated";
      EXPECT_GE(d, last) << "type " << type << " shop " << id;
      last = d;
      ASSERT_TRUE(expected.contains(id)) << "type " << type << ": shop " << id << " not in type";
      EXPECT_NEAR(d, expected[id], expected[id] * 0.001 + 1) << "type " << type << " shop " << id;
      EXPECT_LE(expected[id], kRadius + 10) << "type " << type << " shop " << id;
      ++compared;
    }
    for (const auto& [id, d] : expected) {
      if (d < kRadius - 10) {
        EXPECT_TRUE(listed.contains(id)) << "type " << type << " shop " << id;
      }
    }
  }
  EXPECT_GT(compared, firsts->rows.size());  // more than the first shops alone were compared
}

TEST_F(ShopQueries, DistancesAreInMetres) {
  int checked = 0;
  for (int type = 1; type <= 10; ++type) {
    for (const auto& s : data_of(port(), near(type, 1))) {
      ++checked;
      const auto& o = s.as_object();
      // Coordinates are degrees; the distance to (120.2, 30.3) recomputed roughly must agree.
      double dx = (o.at("x").to_number<double>() - 120.2) * 96000;  // metres per degree here
      double dy = (o.at("y").to_number<double>() - 30.3) * 111000;
      double approx = std::sqrt(dx * dx + dy * dy);
      EXPECT_NEAR(o.at("distance").to_number<double>(), approx, approx * 0.02 + 5);
    }
  }
  EXPECT_GT(checked, 0);
}

TEST_F(ShopQueries, WithoutCoordinatesPagesComeFromTheDatabase) {
  auto p1 = data_of(port(), "/shop/of/type?typeId=2");
  auto p2 = data_of(port(), "/shop/of/type?typeId=2&current=2");
  ASSERT_EQ(p1.size(), 5u);
  ASSERT_EQ(p2.size(), 5u);
  EXPECT_LT(p1.back().at("id").as_int64(), p2.front().at("id").as_int64());
  for (const auto& s : p1) {
    EXPECT_EQ(s.at("typeId").as_int64(), 2);
    EXPECT_EQ(s.as_object().if_contains("distance"), nullptr);
  }
}

TEST_F(ShopQueries, NameSearchMatchesSubstringsAndTreatsWildcardsLiterally) {
  auto ktv = data_of(port(), "/shop/of/name?name=KTV");
  ASSERT_FALSE(ktv.empty());
  EXPECT_LE(ktv.size(), 10u);
  for (const auto& s : ktv) {
    EXPECT_NE(std::string(s.at("name").as_string()).find("KTV"), std::string::npos);
  }
  EXPECT_TRUE(data_of(port(), "/shop/of/name?name=%25").empty());  // a literal '%'
  EXPECT_EQ(data_of(port(), "/shop/of/name").size(), 10u);         // no name: every shop
}

// Absent ids are turned away by the instance's own copy of the Bloom filter: no Redis command
// per read (the copy is ready once the feed has synced it after start; waited for, bounded).
TEST_F(ShopQueries, AbsentIdsCostNoRedisCommand) {
  const std::string requests = "surge_redis_requests_total";
  int64_t spent = -1;
  for (int round = 0; round < 50 && (spent < 0 || spent >= 10); ++round) {
    int64_t before = metric_sample(admin_port(), requests);
    for (int i = 0; i < 200; ++i) {
      auto [status, body] =
          http_get(port(), "/shop/" + std::to_string(90'000'000 + round * 1000 + i));
      ASSERT_EQ(status, 200);
      ASSERT_EQ(body, R"({"success":false,"errorMsg":"店铺不存在"})");
    }
    // A few are the visitor counter's batched writes, never one per read.
    spent = metric_sample(admin_port(), requests) - before;
    if (spent >= 10) std::this_thread::sleep_for(100ms);
  }
  EXPECT_LT(spent, 10) << "Redis commands for 200 reads of absent ids";
}

TEST_F(ShopQueries, ShopTypesAreServedSortedAndCached) {
  auto a = data_of(port(), "/shop-type/list");
  ASSERT_EQ(a.size(), 10u);
  EXPECT_EQ(std::string(a[0].at("name").as_string()), "美食");
  // Cached: many more reads cost no database load at all.
  const std::string loads = R"(surge_cache_db_loads_total{class="shopType"})";
  int64_t before = metric_sample(admin_port(), loads);
  ASSERT_GE(before, 0) << "no such metric";  // 0 when another instance filled Redis first
  const std::string near_hits = R"(surge_cache_requests_total{class="shopType",result="near_hit"})";
  int64_t near_before = metric_sample(admin_port(), near_hits);
  ASSERT_GE(near_before, 0) << "no such metric";
  for (int i = 0; i < 50; ++i) EXPECT_EQ(data_of(port(), "/shop-type/list"), a);
  EXPECT_EQ(metric_sample(admin_port(), loads), before);
  // And mostly from the near cache, not Redis: at most each worker's first read (or one whose
  // 10 s near entry expired) goes further.
  EXPECT_GE(metric_sample(admin_port(), near_hits) - near_before, 40);
}

TEST_F(ShopQueries, BadParametersAre400WithAReason) {
  const std::pair<std::string, std::string> cases[] = {
      {"/shop/of/type", "invalid typeId"},
      {"/shop/of/type?typeId=abc", "invalid typeId"},
      {"/shop/of/type?typeId=-3", "invalid typeId"},
      {"/shop/of/type?typeId=1&current=0", "invalid current"},
      {"/shop/of/type?typeId=1&current=x", "invalid current"},
      {"/shop/of/type?typeId=1&x=120.1", "x and y go together"},
      {"/shop/of/type?typeId=1&x=181&y=30", "invalid coordinates"},
      {"/shop/of/type?typeId=1&x=120&y=89", "invalid coordinates"},
      {"/shop/of/type?typeId=1&x=nan&y=30", "invalid coordinates"},
      {"/shop/of/name?current=-1", "invalid current"},
  };
  for (const auto& [path, message] : cases) {
    auto [status, body] = http_get(port(), path);
    EXPECT_EQ(status, 400) << path;
    EXPECT_NE(body.find(message), std::string::npos) << path << " -> " << body;
  }
}

}  // namespace
}  // namespace surge::test
