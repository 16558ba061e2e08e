// The real `surge serve` binary against the seeded fixture stores: shop and shop-type reads,
// id validation, health, metrics and the API document, protocol abuse, and a clean exit on
// SIGTERM.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include <thread>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "support/api.h"
#include "support/processes.h"

namespace surge {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// One server for the read-only cases; starting it costs a store connection round.
class HttpApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = std::make_unique<test::SurgeServer>(); }
  static void TearDownTestSuite() { server_.reset(); }
  // If start-up threw, every case fails here instead of touching a null server.
  void SetUp() override { ASSERT_NE(server_, nullptr) << "surge did not start"; }
  static uint16_t port() { return server_->port(); }
  static uint16_t admin_port() { return server_->admin_port(); }

  static json::value get_json(const std::string& path, int expected_status) {
    return get_json_from(port(), path, expected_status);
  }
  static json::value get_json_from(uint16_t port, const std::string& path, int expected_status) {
    auto [status, body] = test::http_get(port, path);
    EXPECT_EQ(status, expected_status) << path << ": " << body;
    json::error_code ec;
    json::value v = json::parse(body, ec);
    EXPECT_FALSE(ec) << path << ": not JSON: " << body;
    return v;
  }

  static std::unique_ptr<test::SurgeServer> server_;
};

std::unique_ptr<test::SurgeServer> HttpApiTest::server_;

TEST_F(HttpApiTest, ShopByIdHasTheOriginalFields) {
  json::value v = get_json("/shop/1", 200);
  ASSERT_TRUE(v.is_object());
  EXPECT_EQ(v.at("success"), true);
  const json::object& shop = v.at("data").as_object();
  std::set<std::string> keys;
  for (const auto& kv : shop) keys.emplace(kv.key());
  std::set<std::string> expected = {"id",       "name",  "typeId",    "images",     "area",
                                    "address",  "x",     "y",         "avgPrice",   "sold",
                                    "comments", "score", "openHours", "createTime", "updateTime"};
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(shop.at("id").to_number<int64_t>(), 1);
  EXPECT_TRUE(shop.at("name").is_string());
  EXPECT_FALSE(shop.at("name").as_string().empty());
  double x = shop.at("x").to_number<double>();
  double y = shop.at("y").to_number<double>();
  EXPECT_GE(x, 120.00);
  EXPECT_LE(x, 120.40);
  EXPECT_GE(y, 30.10);
  EXPECT_LE(y, 30.45);
  int64_t type = shop.at("typeId").to_number<int64_t>();
  EXPECT_GE(type, 1);
  EXPECT_LE(type, 10);
}

TEST_F(HttpApiTest, ShopCoordinatesArePlainDecimals) {
  auto [status, body] = test::http_get(port(), "/shop/2");
  ASSERT_EQ(status, 200);
  size_t x = body.find("\"x\":");
  ASSERT_NE(x, std::string::npos) << body;
  std::string number = body.substr(x + 4, body.find(',', x) - x - 4);
  EXPECT_EQ(number.find_first_of("eE"), std::string::npos) << number;
}

// Ids past 501 may exist: other suites sharing the stores create shops (POST /shop).
TEST_F(HttpApiTest, LastSeededShopExistsAndFarBeyondDoesNot) {
  json::value last = get_json("/shop/501", 200);
  EXPECT_EQ(last.at("success"), true);
  json::value beyond = get_json("/shop/5000000", 200);
  EXPECT_EQ(beyond.at("success"), false);
}

TEST_F(HttpApiTest, ShopTypesAreTenSortedBySort) {
  json::value v = get_json("/shop-type/list", 200);
  EXPECT_EQ(v.at("success"), true);
  const json::array& types = v.at("data").as_array();
  ASSERT_EQ(types.size(), 10u);
  int64_t previous = INT64_MIN;
  for (const auto& t : types) {
    const json::object& o = t.as_object();
    for (const char* k : {"id", "name", "icon", "sort"}) EXPECT_TRUE(o.contains(k)) << k;
    int64_t sort = o.at("sort").to_number<int64_t>();
    EXPECT_GE(sort, previous);
    previous = sort;
  }
}

TEST_F(HttpApiTest, InvalidShopIdsAre400) {
  for (const char* path :
       {"/shop/abc", "/shop/-1", "/shop/0", "/shop/99999999999999999999", "/shop/1a", "/shop/+1"}) {
    json::value v = get_json(path, 400);
    ASSERT_TRUE(v.is_object()) << path;
    EXPECT_EQ(v.at("success"), false) << path;
    ASSERT_TRUE(v.as_object().contains("errorMsg")) << path;
    EXPECT_FALSE(v.at("errorMsg").as_string().empty()) << path;
    EXPECT_FALSE(v.as_object().contains("data")) << path;
  }
}

TEST_F(HttpApiTest, MissingShopIsBusinessFailure) {
  auto [status, body] = test::http_get(port(), "/shop/999999");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body, "{\"success\":false,\"errorMsg\":\"店铺不存在\"}");
}

TEST_F(HttpApiTest, RepeatedReadsAgree) {
  auto first = test::http_get(port(), "/shop/7");
  auto second = test::http_get(port(), "/shop/7");
  ASSERT_EQ(first.first, 200);
  EXPECT_EQ(first, second);
}

// In the cluster.http_api_test twin: what the server stores is on the cluster, and nothing on the
// single Redis the same env file names (so no feature was left behind on --redis-host).
TEST_F(HttpApiTest, OnAClusterNothingIsLeftOnTheSingleNode) {
  const auto& stores = test::stores();
  if (stores.redis_cluster.empty()) GTEST_SKIP() << "checked in the cluster.* twin";
  ASSERT_EQ(test::http_get(port(), "/shop/3").first, 200);
  EXPECT_EQ(test::redis_cli("EXISTS cache:shop:3"), "1");
  EXPECT_EQ(test::shell("redis-cli -h " + stores.redis.host + " -p " +
                        std::to_string(stores.redis.port) + " DBSIZE"),
            "0");
}

// The admin listener says which store is up; the public one says only up or down.
TEST_F(HttpApiTest, HealthReportsBothStoresUp) {
  json::value v = get_json_from(admin_port(), "/health", 200);
  EXPECT_EQ(v.at("success"), true);
  EXPECT_EQ(v.at("data").at("redis"), "up");
  EXPECT_EQ(v.at("data").at("mariadb"), "up");
  EXPECT_EQ(test::http_get(port(), "/health"),
            (std::pair<int, std::string>{200, R"({"status":"up"})"}));
}

// Operations endpoints exist only on the admin listener, and API routes only on the public one.
TEST_F(HttpApiTest, OperationsRoutesAreOnlyOnTheAdminListener) {
  for (const char* path : {"/metrics", "/dashboard", "/dashboard/data"}) {
    EXPECT_EQ(test::http_get(port(), path).first, 404) << path;
    EXPECT_EQ(test::http_get(admin_port(), path).first, 200) << path;
  }
  EXPECT_EQ(test::http_get(admin_port(), "/shop/1").first, 404);
}

// The dashboard's data is the /metrics samples as JSON, every live instance's, the sale's
// figures and the stores' state.
TEST_F(HttpApiTest, DashboardDataCarriesTheMetricSamples) {
  test::http_get(port(), "/shop/1");
  json::value v = get_json_from(admin_port(), "/dashboard/data", 200);
  EXPECT_EQ(v.at("redis"), "up");
  EXPECT_EQ(v.at("mariadb"), "up");
  EXPECT_EQ(v.at("draining"), false);
  // Every live instance (this one among them, with its fresh samples) and the sale's figures.
  bool found = false;
  for (const auto& i : v.at("instances").as_array()) {
    if (i.at("instance") != v.at("instance")) continue;
    for (const auto& s : i.at("samples").as_array()) {
      const auto& o = s.as_object();
      if (o.at("n") == "surge_http_requests_total" &&
          o.at("l").as_object().at("route") == "GET /shop/{id}") {
        found = o.at("v").to_number<double>() >= 1;
      }
    }
  }
  EXPECT_TRUE(found) << v;
  EXPECT_TRUE(v.at("sale").at("vouchers").is_array()) << v;
  EXPECT_FALSE(v.at("sale").at("shards").as_array().empty()) << v;
  auto [status, page] = test::http_get(admin_port(), "/dashboard");
  EXPECT_NE(page.find("dashboard/data"), std::string::npos);
}

TEST_F(HttpApiTest, MetricsExposition) {
  test::http_get(port(), "/shop/1");
  std::string raw =
      test::raw_http(admin_port(), "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(raw.starts_with("HTTP/1.1 200")) << raw.substr(0, 200);
  EXPECT_NE(raw.find("Content-Type: text/plain"), std::string::npos);
  EXPECT_NE(raw.find("surge_http_requests_total{route=\"GET /shop/{id}\",code=\"2xx\"}"),
            std::string::npos)
      << raw;
  EXPECT_NE(raw.find("surge_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(raw.find("surge_redis_requests_total"), std::string::npos);
}

// The binary carries the document it was built with; no file is read at run time.
TEST_F(HttpApiTest, OpenApiDocumentIsServedByteForByte) {
  std::ifstream file(std::string(SURGE_SOURCE_DIR) + "/docs/openapi.json", std::ios::binary);
  ASSERT_TRUE(file) << "docs/openapi.json not found";
  std::ostringstream expected;
  expected << file.rdbuf();
  std::string raw =
      test::raw_http(port(), "GET /openapi.json HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                     std::chrono::seconds(10));
  ASSERT_TRUE(raw.starts_with("HTTP/1.1 200")) << raw.substr(0, 200);
  EXPECT_NE(raw.find("Content-Type: application/json"), std::string::npos);
  std::string body = raw.substr(raw.find("\r\n\r\n") + 4);
  EXPECT_EQ(body.size(), expected.str().size());
  EXPECT_TRUE(body == expected.str());
  EXPECT_EQ(json::parse(body).at("openapi"), "3.0.3");
}

TEST_F(HttpApiTest, UnknownRouteAndWrongMethod) {
  auto [status, body] = test::http_get(port(), "/no/such/route");
  EXPECT_EQ(status, 404);
  std::string raw = test::raw_http(port(),
                                   "POST /shop/1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                                   "Content-Length: 0\r\n\r\n");
  EXPECT_TRUE(raw.starts_with("HTTP/1.1 405")) << raw;
}

TEST_F(HttpApiTest, OversizedHeaderIs431) {
  std::string raw = test::raw_http(port(), "GET /shop/1 HTTP/1.1\r\nHost: t\r\nX-Big: " +
                                               std::string(16 * 1024, 'h') + "\r\n\r\n");
  EXPECT_TRUE(raw.starts_with("HTTP/1.1 431")) << raw.substr(0, 200);
  EXPECT_NE(raw.find(R"({"success":false,"errorMsg":)"), std::string::npos) << raw;
}

TEST_F(HttpApiTest, GarbageIsRejectedAndServerKeepsServing) {
  auto started = std::chrono::steady_clock::now();
  std::string raw = test::raw_http(port(), std::string("\x00\x01GARBAGE\r\n\r\n", 13));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2500ms) << "connection left open";
  if (!raw.empty()) {
    EXPECT_TRUE(raw.starts_with("HTTP/1.1 400")) << raw;
  }
  EXPECT_EQ(test::http_get(port(), "/health").first, 200);
}

// Its own server: the signal ends the process.
TEST(HttpApiShutdown, SigtermExitsCleanly) {
  test::SurgeServer server;
  ASSERT_EQ(test::http_get(server.port(), "/health").first, 200);
  server.child().kill(SIGTERM);
  int status = server.child().wait(5s);
  EXPECT_EQ(status, 0) << "-1 means it did not exit within 5 s";
  EXPECT_EQ(test::raw_http(server.port(), "GET /health HTTP/1.1\r\n\r\n", 500ms), "");
}

// With --drain-delay, SIGTERM first fails the health check while requests are still served; a
// second signal ends the wait and the process exits cleanly.
TEST(HttpApiShutdown, SigtermFailsTheHealthCheckBeforeTheListenerCloses) {
  test::SurgeServer server({"--drain-delay", "600000"});
  ASSERT_EQ(test::http_get(server.port(), "/health").first, 200);
  server.child().kill(SIGTERM);
  std::pair<int, std::string> health;
  for (int i = 0; i < 500; ++i) {
    health = test::http_get(server.port(), "/health");
    if (health.first == 503) break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(health.first, 503);
  EXPECT_EQ(health.second, R"({"status":"down"})");
  auto detail = test::http_get(server.admin_port(), "/health");
  EXPECT_EQ(detail.first, 503);
  EXPECT_NE(detail.second.find("draining"), std::string::npos) << detail.second;
  EXPECT_EQ(test::http_get(server.port(), "/shop/1").first, 200) << "still serving meanwhile";
  server.child().kill(SIGTERM);
  EXPECT_EQ(server.child().wait(10s), 0);
}

// A client holding an idle keep-alive connection must not keep the process alive: drain closes it.
TEST(HttpApiShutdown, SigtermWithAnIdleKeepAliveConnection) {
  test::SurgeServer server;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(server.port());
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string req = "GET /health HTTP/1.1\r\nHost: t\r\n\r\n";
  ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  char buf[4096];
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 3000), 1);
  ASSERT_GT(::recv(fd, buf, sizeof buf, 0), 0);

  server.child().kill(SIGTERM);
  EXPECT_EQ(server.child().wait(5s), 0);
  // The server closed our connection on its way out.
  p = pollfd{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 1000), 1);
  EXPECT_LE(::recv(fd, buf, sizeof buf, 0), 0);
  ::close(fd);
}

}  // namespace
}  // namespace surge
